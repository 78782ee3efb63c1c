import { Hono } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends } from '../../http/test/harness';
import { rateLimitStore } from '../src/index';
import { serveHono } from './serve';

// hono-rate-limiter with larder's store, over HTTP, on memory and a real redis-server.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

async function limitedApp(limit: number | ((c: unknown) => number), cache = env.backends[0]!.cache()) {
  const app = new Hono();
  app.use(
    rateLimiter({
      windowMs: 60_000,
      limit,
      keyGenerator: (c) => c.req.header('x-user') ?? 'anon',
      store: rateLimitStore({ cache }),
    }),
  );
  app.get('/', (c) => c.text('ok'));
  return serveHono(app);
}

describe('rateLimitStore: bad input', () => {
  it('no cache is a ConfigError naming it', () => {
    expect(() => rateLimitStore({} as never)).toThrow(expect.objectContaining({ code: 'E_CONFIG', variable: 'cache' }));
  });

  it.each([
    ['windowMs', { windowMs: -1, limit: 5 }],
    ['windowMs', { windowMs: 1.5, limit: 5 }],
    ['limit', { windowMs: 1000, limit: -2 }],
    ['limit', { windowMs: 1000, limit: 2.5 }],
  ])('a bad %s from hono-rate-limiter is a ConfigError naming it (%o)', (name, options) => {
    const store = rateLimitStore({ cache: env.backends[0]!.cache() });
    expect(() => store.init(options)).toThrow(expect.objectContaining({ code: 'E_CONFIG', variable: name }));
  });

  it('a store used before init is a ConfigError', async () => {
    await expect(rateLimitStore({ cache: env.backends[0]!.cache() }).increment('k')).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
  });
});

describe.each(env.backends)('hono-rate-limiter on rateLimitStore ($name)', (backend) => {
  it('20 concurrent requests against a limit of 5: exactly 5 admitted, the rest 429 with RateLimit headers', async () => {
    const served = await limitedApp(5, backend.cache());
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, () => served.get('/', { 'x-user': 'ann' })));
      expect(replies.filter((r) => r.status === 200)).toHaveLength(5);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(15);
      expect(replies[0]?.headers['ratelimit-limit']).toBe('5');
      // Another key has its own count.
      expect((await served.get('/', { 'x-user': 'bob' })).status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it('limit: 0 blocks everyone', async () => {
    const served = await limitedApp(0, backend.cache());
    try {
      expect((await served.get('/')).status).toBe(429);
      expect((await served.get('/')).status).toBe(429);
    } finally {
      await served.close();
    }
  });

  it('a limit that is a function: every hit counted, compared by hono-rate-limiter', async () => {
    const served = await limitedApp(() => 3, backend.cache());
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await served.get('/', { 'x-user': 'cy' })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await served.close();
    }
  });
});
