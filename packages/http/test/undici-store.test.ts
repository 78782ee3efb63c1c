import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undiciCacheStore } from '../src/index';
import { rcBackends, type Served, serve } from './harness';
import { cachingAgent, waitStored } from './undici-client';

// undici's cache interceptor on undiciCacheStore: outbound responses shared by two clients (two
// facades; on Redis two connections), against a real origin server counting its requests.
const env = rcBackends();
let origin: Served;
const hits: Record<string, number> = {};
let version = 1;
beforeAll(async () => {
  await env.start();
  origin = await serve((req, res) => {
    hits[req.url ?? ''] = (hits[req.url ?? ''] ?? 0) + 1;
    if (req.method === 'POST') return void res.end('posted');
    res.setHeader('Cache-Control', 'public, max-age=60');
    if (req.url?.startsWith('/lang')) {
      res.setHeader('Vary', 'Accept-Language');
      return void res.end(`hello in ${req.headers['accept-language']}`);
    }
    res.end(`${req.url} v${version}`);
  });
});
afterAll(async () => {
  await origin?.close();
  await env.stop();
});

const pairs = [
  {
    name: 'memory',
    open() {
      const store = createMemoryStore();
      return [new Cache({ store, prefix: 'undici:' }), new Cache({ store, prefix: 'undici:' })];
    },
  },
  {
    name: 'redis',
    open() {
      const one = () =>
        new Cache({
          store: createRedisStore({ url: env.redisUrl() }),
          prefix: `undici-${process.pid}:`,
          timeout: '3s',
        });
      return [one(), one()];
    },
  },
];

describe('undiciCacheStore: bad input', () => {
  it('no cache, or a bad maxEntrySize, is a ConfigError naming it', () => {
    expect(() => undiciCacheStore(undefined as never)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', variable: 'cache' }),
    );
    const cache = new Cache({ store: createMemoryStore() });
    expect(() => undiciCacheStore(cache, { maxEntrySize: 0 })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', variable: 'maxEntrySize' }),
    );
  });
});

describe.each(pairs)('undici cache interceptor on undiciCacheStore ($name)', (backend) => {
  it('a second client gets what the first stored; Vary keeps variants apart; a POST drops the URI', async () => {
    const [a, b] = backend.open() as [Cache, Cache];
    const [one, two] = [cachingAgent(a), cachingAgent(b)];
    const base = `http://127.0.0.1:${origin.port}`;
    const get = async (dispatcher: ReturnType<typeof cachingAgent>, path: string, headers?: Record<string, string>) => {
      const reply = await request(`${base}${path}`, { dispatcher, headers });
      return reply.body.text();
    };
    const path = `/doc-${backend.name}`;
    try {
      expect(await get(one, path)).toBe(`${path} v1`);
      // The store's write ends after the body was read: wait for it before the second client asks.
      await waitStored(two, `${base}${path}`);
      expect(await get(two, path)).toBe(`${path} v1`);
      expect(hits[path]).toBe(1);
      const lang = `/lang-${backend.name}`;
      // One variant at a time: each is written once its body was read (the variants of a URI share an entry).
      for (const language of ['en', 'fr']) {
        expect(await get(one, lang, { 'accept-language': language })).toBe(`hello in ${language}`);
        await waitStored(two, `${base}${lang}`, { 'accept-language': language });
      }
      expect(await get(two, lang, { 'accept-language': 'fr' })).toBe('hello in fr');
      expect(await get(two, lang, { 'accept-language': 'en' })).toBe('hello in en');
      expect(hits[lang]).toBe(2);
      version = 2;
      await request(`${base}${path}`, { dispatcher: one, method: 'POST', body: 'x' }).then((r) => r.body.text());
      expect(await get(two, path)).toBe(`${path} v2`);
    } finally {
      version = 1;
      await one.close();
      await two.close();
      await a.close();
      await b.close();
    }
  });
});
