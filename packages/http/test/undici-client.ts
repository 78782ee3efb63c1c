import type { Cache } from '@larder/core';
import { Agent, type Dispatcher, interceptors, request } from 'undici';
import { undiciCacheStore } from '../src/index';
import type { Reply } from './harness';

/** An undici Agent behind its cache interceptor, on `undiciCacheStore(cache)`. */
export function cachingAgent(cache: Cache, options: { cacheByDefault?: number } = {}): Dispatcher {
  return new Agent().compose(interceptors.cache({ store: undiciCacheStore(cache), type: 'shared', ...options }));
}

/** One request through `dispatcher`, its body read. */
export async function fetchVia(
  dispatcher: Dispatcher,
  url: string,
  options: { method?: 'GET' | 'PUT' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const reply = await request(url, { dispatcher, ...options });
  return { status: reply.statusCode, headers: reply.headers, text: await reply.body.text() };
}

/**
 * Resolves once `dispatcher`'s store has the entry of `url` (asks with `only-if-cached`, which
 * undici answers 504 on a miss): the store's write ends after the body was read, so a test
 * waits for it before it expects a hit. `cacheControl` may add `max-stale=N`: an entry stored but
 * already stale (a short-lived one on a loaded machine) then counts as stored.
 */
export async function waitStored(
  dispatcher: Dispatcher,
  url: string,
  headers: Record<string, string> = {},
  cacheControl = 'only-if-cached',
): Promise<void> {
  const end = Date.now() + 3000;
  for (;;) {
    const reply = await fetchVia(dispatcher, url, { headers: { ...headers, 'cache-control': cacheControl } });
    if (reply.status === 200) return;
    if (Date.now() > end) throw new Error(`${url} was never stored`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
