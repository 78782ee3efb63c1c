import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheTagHeader } from '../src/response-cache/middleware';
import { cacheFor, rcBackends, serve, untilHit } from './response-cache-harness';

// responseCache({ tags }) and the Cache-Tag header: invalidateTags purges the stored responses.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

/** Counts handler runs across every app of this file: each response body is unique. */
let serial = 0;

/** An app whose `/products/:id` responses are tagged by the `tags` option and by a `Cache-Tag` header. */
function productsApp(cache: Cache) {
  const runs = new Map<string, number>();
  const rc = cacheFor({
    cache,
    ttl: '1m',
    tags: (req) => [`product:${(req.url ?? '').split('/').pop()}`],
  });
  const app = express();
  app.get('/products/:id', rc, (req, res) => {
    runs.set(req.params.id, (runs.get(req.params.id) ?? 0) + 1);
    res.setHeader('Cache-Tag', `products, category:${Number(req.params.id) % 2 === 0 ? 'even' : 'odd'}`);
    res.json({ id: req.params.id, run: runs.get(req.params.id), serial: ++serial });
  });
  return { app, rc, runs };
}

// The memory store with `useCodec` here (its default raw mode is tested below).
let n = 0;
const backends = [
  { name: 'memory', cache: () => new Cache({ store: createMemoryStore({ useCodec: true }), prefix: `rct-${++n}:` }) },
  { name: 'redis', cache: () => (env.backends[1] as (typeof env.backends)[1]).cache() },
];

describe.each(backends)('responseCache tags ($name)', (backend) => {
  it('invalidateTags of a tag from the option purges those responses, and only those', async () => {
    const cache = backend.cache();
    const { app, runs } = productsApp(cache);
    const served = await serve(app);
    try {
      await untilHit(served, '/products/42');
      await untilHit(served, '/products/43');
      // Under load a request can come before the first response is stored: count from the HIT.
      const ranBefore = runs.get('42') as number;
      await cache.invalidateTags(['product:42']);
      const purged = await served.get('/products/42');
      expect(purged.headers['x-cache']).toBe('MISS');
      expect(JSON.parse(purged.text).run).toBe(ranBefore + 1);
      expect((await served.get('/products/43')).headers['x-cache']).toBe('HIT');
    } finally {
      await served.close();
    }
  });

  it('Cache-Tag header tags are stored too, and the header is replayed on a HIT', async () => {
    const cache = backend.cache();
    const { app } = productsApp(cache);
    const served = await serve(app);
    try {
      const hit = await untilHit(served, '/products/2');
      await untilHit(served, '/products/3');
      expect(hit.headers['cache-tag']).toBe('products, category:even');
      await cache.invalidateTags(['category:even']);
      expect((await served.get('/products/2')).headers['x-cache']).toBe('MISS');
      expect((await served.get('/products/3')).headers['x-cache']).toBe('HIT');
      await cache.invalidateTags(['products']);
      expect((await served.get('/products/3')).headers['x-cache']).toBe('MISS');
    } finally {
      await served.close();
    }
  });

  it('on a store that keeps raw values (the memory default): tagged responses are stored and purged', async () => {
    const cache = new Cache({ store: createMemoryStore(), prefix: 'raw:' });
    const rc = cacheFor({ cache, ttl: '1m', tags: (req) => (req.url === '/tagged' ? ['t'] : []) });
    const app = express();
    app.get('/:name', rc, (req, res) => res.json({ name: req.params.name }));
    const served = await serve(app);
    try {
      await untilHit(served, '/tagged');
      await untilHit(served, '/plain');
      await cache.invalidateTags(['t']);
      expect((await served.get('/tagged')).headers['x-cache']).toBe('MISS');
      expect((await served.get('/plain')).headers['x-cache']).toBe('HIT');
    } finally {
      await served.close();
    }
  });

  it('a bad tag: the response is sent but not stored, and the cache keeps working', async () => {
    const cache = backend.cache();
    const rc = cacheFor({ cache, ttl: '1m', tags: (req) => (req.url === '/bad' ? [''] : ['fine']) });
    const app = express();
    app.get('/:name', rc, (req, res) => res.json({ name: req.params.name }));
    const served = await serve(app);
    try {
      expect(JSON.parse((await served.get('/bad')).text).name).toBe('bad');
      await rc.settled();
      expect((await served.get('/bad')).headers['x-cache']).toBe('MISS');
      await untilHit(served, '/good');
    } finally {
      await served.close();
    }
  });
});

describe('responseCache tags on two instances with an L1 (Redis tracking)', () => {
  it('after invalidateTags resolves on one instance, neither serves the purged response', async () => {
    const server = env.redis();
    const prefix = `rct-${process.pid}:`;
    const caches = [0, 1].map(
      () =>
        new Cache({
          store: createRedisStore({ url: server.url }),
          prefix,
          l1: { invalidation: 'tracking' },
        }),
    );
    const apps = caches.map((cache) => productsApp(cache));
    const served = await Promise.all(apps.map(({ app }) => serve(app)));
    try {
      const before = new Set<number>();
      for (const one of served) before.add(JSON.parse((await untilHit(one, '/products/7')).text).serial);
      await (caches[1] as Cache).invalidateTags(['product:7']);
      // Neither serves a response stored before (one may serve what the other stored since).
      for (const one of served) expect(before.has(JSON.parse((await one.get('/products/7')).text).serial)).toBe(false);
    } finally {
      await Promise.all(served.map((one) => one.close()));
      await Promise.all(caches.map((cache) => cache.close()));
    }
  });
});

describe('cacheTagHeader', () => {
  it('reads comma-separated tags, trimmed, repeated headers joined', () => {
    expect(cacheTagHeader(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(cacheTagHeader(['a,b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(cacheTagHeader(undefined)).toEqual([]);
  });
});
