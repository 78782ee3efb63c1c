import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import { Hono } from 'hono';
import { cache as honoCache } from 'hono/cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends } from '../../http/test/harness';
import { cacheStorage } from '../src/index';

// hono/cache (the Web Cache API) on Node through cacheStorage: shared by two instances (two
// facades, on Redis two connections) and purged by tag on both.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());
const global = globalThis as { caches?: unknown };

const instances = [
  {
    name: 'memory',
    open() {
      const store = createMemoryStore();
      return [new Cache({ store, prefix: 'cs-test:' }), new Cache({ store, prefix: 'cs-test:' })];
    },
  },
  {
    name: 'redis',
    open() {
      const prefix = `cs-test-${process.pid}:`;
      const one = () => new Cache({ store: createRedisStore({ url: env.redisUrl() }), prefix, timeout: '3s' });
      return [one(), one()];
    },
  },
];

describe('cacheStorage: bad input', () => {
  it('no cache is a ConfigError naming it; a bad ttl an InvalidTtlError', () => {
    expect(() => cacheStorage(undefined as never)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', variable: 'cache' }),
    );
    expect(() => cacheStorage(new Cache({ store: createMemoryStore() }), { ttl: 'soon' as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_TTL' }),
    );
  });

  it('put refuses what the Web Cache API refuses: a non-GET request, a 206, Vary: *', async () => {
    const pages = await cacheStorage(new Cache({ store: createMemoryStore() })).open('pages');
    await expect(pages.put(new Request('http://a.example/x', { method: 'POST' }), new Response('x'))).rejects.toThrow(
      TypeError,
    );
    await expect(pages.put('http://a.example/x', new Response('x', { status: 206 }))).rejects.toThrow(TypeError);
    await expect(pages.put('http://a.example/x', new Response('x', { headers: { vary: '*' } }))).rejects.toThrow(
      TypeError,
    );
  });
});

describe.each(instances)('hono/cache on cacheStorage ($name)', (backend) => {
  it('a second instance answers from what the first stored; a tag purge reaches both; keys and delete', async () => {
    const [a, b] = backend.open() as [Cache, Cache];
    const storageA = cacheStorage(a);
    const storageB = cacheStorage(b);
    let runs = 0;
    const app = () => {
      const hono = new Hono();
      hono.get('/news', honoCache({ cacheName: 'pages', wait: true }), (c) => {
        runs++;
        c.header('Cache-Tag', 'news');
        return c.text(`news ${runs}`);
      });
      return hono;
    };
    try {
      global.caches = storageA;
      const first = app();
      expect(await (await first.request('http://a.example/news')).text()).toBe('news 1');
      global.caches = storageB;
      const second = app();
      expect(await (await second.request('http://a.example/news')).text()).toBe('news 1');
      expect(runs).toBe(1);
      const pages = await storageB.open('pages');
      // hono/cache keys its entries by a URL of its own that names the request's.
      const keys = await pages.keys();
      expect(keys).toHaveLength(1);
      expect(keys[0]?.url).toContain(encodeURIComponent('http://a.example/news'));
      await a.invalidateTags(['news']);
      expect(await (await second.request('http://a.example/news')).text()).toBe('news 2');
      global.caches = storageA;
      expect(await (await first.request('http://a.example/news')).text()).toBe('news 2');
      const stored = (await pages.keys())[0] as Request;
      expect(await pages.match(stored)).toBeInstanceOf(Response);
      expect(await pages.delete(stored)).toBe(true);
      expect(await pages.match(stored)).toBeUndefined();
    } finally {
      global.caches = undefined;
      await a.close();
      await b.close();
    }
  });
});
