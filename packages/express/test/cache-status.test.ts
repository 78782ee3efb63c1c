import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import express from 'express';
import { type Item, parseList, Token } from 'structured-headers';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheStatus, responseCache } from '../src/response-cache/middleware';
import { type Served, serve, until, untilHit } from './response-cache-harness';

/** Cache-Status parsed as the RFC 8941 list it must be: [cache id, parameters] of larder's item. */
function larderEntry(header: string | undefined): { id: string; params: Record<string, unknown> } {
  expect(header).toBeDefined();
  const list = parseList(header as string) as Item[];
  expect(list).toHaveLength(1);
  const [value, params] = list[0] as Item;
  // Tokens (the cache id, fwd's reason) must parse as tokens, not strings.
  expect(value).toBeInstanceOf(Token);
  const plain = [...params].map(([name, v]) => {
    if (name === 'fwd' || name === 'detail') expect(v).toBeInstanceOf(Token);
    return [name, v instanceof Token ? v.toString() : v];
  });
  return { id: String(value), params: Object.fromEntries(plain) };
}

async function app(): Promise<{ served: Served; release(): void; waiting(): boolean; followers(): number }> {
  const cache = new Cache({ store: createMemoryStore(), prefix: 'cs' });
  const rc = responseCache({ cache, ttl: '1m' });
  const server = express();
  let release: (() => void) | undefined;
  server.get('/page', rc, (_req, res) => {
    res.send('page');
  });
  server.get('/cookie', rc, (_req, res) => {
    res.cookie('a', 'b').send('with a cookie');
  });
  server.get('/vary', rc, (_req, res) => {
    res.set('Vary', 'Accept-Language').send('varies');
  });
  server.get('/stream', rc, (_req, res) => {
    res.write('a');
    res.end('b');
  });
  server.get('/slow', rc, async (_req, res) => {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    res.send('slow');
  });
  const served = await serve(server);
  opened.push(served);
  return {
    served,
    release: () => release?.(),
    waiting: () => release !== undefined,
    followers: () => rc.stats().waiting,
  };
}

const opened: Served[] = [];
afterEach(async () => {
  for (const served of opened.splice(0)) await served.close();
});

describe('Cache-Status (RFC 9211)', () => {
  it('builds the list member with its parameters', () => {
    expect(cacheStatus({ hit: true, ttl: 42.9 })).toBe('larder; hit; ttl=42');
    expect(cacheStatus({ fwd: 'uri-miss', stored: true })).toBe('larder; fwd=uri-miss; stored');
    expect(cacheStatus({ fwd: 'uri-miss', collapsed: true })).toBe('larder; fwd=uri-miss; collapsed');
    expect(cacheStatus({ fwd: 'uri-miss', detail: 'authorization' })).toBe(
      'larder; fwd=uri-miss; detail=authorization',
    );
  });

  it('says fwd=uri-miss; stored on a miss that is kept, then hit with the seconds of freshness left', async () => {
    const { served } = await app();
    const miss = await served.get('/page');
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(larderEntry(miss.headers['cache-status'] as string)).toEqual({
      id: 'larder',
      params: { fwd: 'uri-miss', stored: true },
    });
    const hit = await untilHit(served, '/page');
    const entry = larderEntry(hit.headers['cache-status'] as string);
    expect(entry.params.hit).toBe(true);
    expect(entry.params.ttl).toBeGreaterThanOrEqual(58);
    expect(entry.params.ttl).toBeLessThanOrEqual(60);
    expect(entry.params.fwd).toBeUndefined();
  });

  it('names the rule that kept a response out (detail), and says nothing of a streamed one not yet whole', async () => {
    const { served } = await app();
    const cookie = await served.get('/cookie');
    expect(larderEntry(cookie.headers['cache-status'] as string).params).toEqual({
      fwd: 'uri-miss',
      detail: 'set-cookie',
    });
    const stream = await served.get('/stream');
    expect(larderEntry(stream.headers['cache-status'] as string).params).toEqual({ fwd: 'uri-miss' });
  });

  it('says fwd=request with the directive when the request has Cache-Control: no-store', async () => {
    const { served } = await app();
    const res = await served.get('/page', { 'cache-control': 'no-store' });
    expect(larderEntry(res.headers['cache-status'] as string).params).toEqual({ fwd: 'request', detail: 'no-store' });
  });

  it('says fwd=vary-miss for a new variant of a URL that varies', async () => {
    const { served } = await app();
    await served.get('/vary', { 'accept-language': 'en' });
    await untilHit(served, '/vary', { 'accept-language': 'en' });
    const other = await served.get('/vary', { 'accept-language': 'fr' });
    expect(larderEntry(other.headers['cache-status'] as string).params).toEqual({ fwd: 'vary-miss', stored: true });
  });

  it('marks requests that shared a concurrent miss as collapsed', async () => {
    const { served, release, waiting, followers } = await app();
    const first = served.get('/slow');
    await until(waiting);
    const second = served.get('/slow');
    await until(() => followers() === 1);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(larderEntry(a.headers['cache-status'] as string).params).toEqual({ fwd: 'uri-miss', stored: true });
    expect(larderEntry(b.headers['cache-status'] as string).params).toEqual({ fwd: 'uri-miss', collapsed: true });
    expect(b.text).toBe('slow');
  });
});
