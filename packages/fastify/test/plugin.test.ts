import fastifyRateLimit from '@fastify/rate-limit';
import { Cache, createCacheManager } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends } from '../../http/test/harness';
import { larder, rateLimitStore, responseCache } from '../src/index';

// The plugin's decorations, and @fastify/rate-limit with larder's store, over HTTP on memory and redis-server.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe('the larder plugin', () => {
  it('decorates app.cache (the default store) and app.caches', async () => {
    const caches = createCacheManager({ stores: { memory: createMemoryStore() } });
    const app = Fastify();
    await app.register(larder, { caches, closeOnShutdown: true });
    app.get('/', async () => {
      await app.cache.set('k', 'v', '1m');
      return { value: await app.caches.store().get('k') };
    });
    const reply = await app.inject({ method: 'GET', url: '/' });
    expect(reply.json()).toEqual({ value: 'v' });
    await app.close();
  });

  it('without caches it is a ConfigError naming the option; a responseCache without cache too', async () => {
    await expect(
      Fastify()
        .register(larder, {} as never)
        .ready(),
    ).rejects.toMatchObject({
      code: 'E_CONFIG',
      variable: 'caches',
    });
    await expect(
      Fastify()
        .register(responseCache, { ttl: '1m' } as never)
        .ready(),
    ).rejects.toMatchObject({
      code: 'E_CONFIG',
      variable: 'cache',
    });
    expect(() => rateLimitStore({} as never)).toThrow(expect.objectContaining({ code: 'E_CONFIG', variable: 'cache' }));
    const cache = new Cache({ store: createMemoryStore() });
    expect(() => rateLimitStore({ cache, name: 'a:b' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT', argument: 'name' }),
    );
    expect(() => rateLimitStore({ cache, onStoreDown: 'sometimes' as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT', argument: 'onStoreDown' }),
    );
  });

  it.each([
    ['continueExceeding', { continueExceeding: true }],
    ['exponentialBackoff', { exponentialBackoff: true }],
    ['ban', { ban: 2 }],
  ])(
    '@fastify/rate-limit with %s (which the store does not support): a ConfigError naming it, global or per route',
    async (name, option) => {
      const store = rateLimitStore({ cache: new Cache({ store: createMemoryStore() }) });
      await expect(
        Fastify()
          .register(fastifyRateLimit, { store, ...option })
          .ready(),
      ).rejects.toMatchObject({
        code: 'E_CONFIG',
        variable: name,
      });
      const app = Fastify();
      await app.register(fastifyRateLimit, { global: false, store });
      expect(() => app.get('/', { config: { rateLimit: { max: 1, ...option } } }, async () => 'ok')).toThrow(
        expect.objectContaining({ code: 'E_CONFIG', variable: name }),
      );
      await app.close();
    },
  );
});

describe.each(env.backends)('@fastify/rate-limit on rateLimitStore ($name)', (backend) => {
  async function limited(max: number, timeWindow: number | string = 60_000) {
    const app = Fastify();
    await app.register(fastifyRateLimit, {
      max,
      timeWindow,
      keyGenerator: (request) => String(request.headers['x-user'] ?? 'anon'),
      store: rateLimitStore({ cache: backend.cache() }),
    });
    app.get('/', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app;
  }

  it('20 concurrent requests against max 5: exactly 5 admitted, the rest 429', async () => {
    const app = await limited(5);
    try {
      const port = (app.server.address() as { port: number }).port;
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-user': 'ann' } })),
      );
      expect(replies.filter((r) => r.status === 200)).toHaveLength(5);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(15);
      expect(replies.find((r) => r.status === 429)?.headers.get('retry-after')).toMatch(/^\d+$/);
      const other = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-user': 'bob' } });
      expect(other.status).toBe(200);
      expect(other.headers.get('x-ratelimit-remaining')).toBe('4');
    } finally {
      await app.close();
    }
  });

  it('max 0 blocks everyone', async () => {
    const app = await limited(0);
    try {
      expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('a timeWindow that is not a positive integer: the request fails with a ConfigError naming it', async () => {
    const app = Fastify();
    await app.register(fastifyRateLimit, {
      max: 5,
      timeWindow: () => 1.5,
      store: rateLimitStore({ cache: backend.cache() }),
    });
    app.get('/', async () => 'ok');
    const reply = await app.inject({ method: 'GET', url: '/' });
    expect(reply.statusCode).toBe(500);
    expect(reply.json()).toMatchObject({ code: 'E_CONFIG' });
    await app.close();
  });
});
