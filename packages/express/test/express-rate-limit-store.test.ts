import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import express from 'express';
import erl7 from 'express-rate-limit-7';
import erl8 from 'express-rate-limit-8';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpressRateLimitStore } from '../src/index';

// express-rate-limit 7 and 8 with larder's store: their own validations run (and report through
// console in 7, the `logger` option in 8); the store must pass them all, silently.
const versions = [
  { name: 'express-rate-limit 7', rateLimit: erl7 as unknown as typeof erl8 },
  { name: 'express-rate-limit 8', rateLimit: erl8 },
];

// What express-rate-limit reported: 8 through its `logger`, 7 through `console`.
const logged: unknown[] = [];
const logger = { warn: (...args: unknown[]) => logged.push(args), error: (...args: unknown[]) => logged.push(args) };
beforeEach(() => {
  logged.length = 0;
  vi.spyOn(console, 'warn').mockImplementation((...args) => void logged.push(args));
  vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args));
});
afterEach(() => vi.restoreAllMocks());

describe.each(versions)('ExpressRateLimitStore with $name', ({ rateLimit }) => {
  const setup = (options: Record<string, unknown> = {}) => {
    const limiter = new Cache({ store: createMemoryStore() }).rateLimiter({
      limit: 3,
      window: '1m',
      algorithm: 'sliding',
    });
    const store = new ExpressRateLimitStore({ limiter });
    const middleware = rateLimit({
      windowMs: 60_000,
      limit: 3,
      store,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: () => 'client',
      ...(rateLimit === erl8 ? { logger } : {}),
      ...options,
    } as never);
    const app = express();
    app.use(middleware);
    app.get('/', (_req, res) => void res.send('ok'));
    app.get('/fail', (_req, res) => void res.status(500).send('no'));
    return { app, middleware, limiter, store };
  };

  it('admits the limit, then 429 with its headers; no validation warning', async () => {
    const { app } = setup();
    for (let i = 0; i < 3; i++) {
      const res = await request(app).get('/').expect(200);
      expect(res.headers.ratelimit).toMatch(new RegExp(`r=${2 - i}; t=60$`));
    }
    const denied = await request(app).get('/').expect(429);
    expect(Number(denied.headers['retry-after'])).toBeGreaterThan(0);
    expect(denied.headers['ratelimit-policy']).toMatch(/q=3; w=60/);
    expect(logged).toEqual([]);
  });

  it('decrement (skipFailedRequests) gives the hit back; resetKey and getKey', async () => {
    const { app, middleware, store } = setup({ skipFailedRequests: true });
    for (let i = 0; i < 5; i++) await request(app).get('/fail').expect(500);
    await request(app).get('/').expect(200);
    const ip = 'client';
    // The refunds land after the failed responses finished: wait for them.
    await vi.waitFor(async () => expect((await store.get(ip)).totalHits).toBe(1));
    expect((await middleware.getKey(ip))?.totalHits).toBe(1);
    await request(app).get('/').expect(200);
    await request(app).get('/').expect(200);
    await request(app).get('/').expect(429);
    await middleware.resetKey(ip);
    await request(app).get('/').expect(200);
    expect(logged).toEqual([]);
  });

  it("init refuses a limit or windowMs that differs from the limiter's (7 throws it, 8 logs it)", () => {
    const refused = (options: Record<string, unknown>, message: RegExp) => {
      logged.length = 0;
      if (rateLimit === erl8) {
        setup(options);
        expect(String(logged.flat()[0])).toMatch(message);
      } else {
        expect(() => setup(options)).toThrow(message);
      }
    };
    refused({ limit: 5 }, /limit \(5\) differs .* \(3\)/);
    refused({ windowMs: 1000 }, /windowMs \(1000\) differs .* \(60000\)/);
    // A zero or negative windowMs is never the limiter's (its window is positive): refused the same way.
    refused({ windowMs: 0 }, /windowMs \(0\) differs .* \(60000\)/);
    refused({ windowMs: -1000 }, /windowMs \(-1000\) differs .* \(60000\)/);
  });
});

// express-rate-limit's `limit: 0` blocks everyone (its maintenance switch; its own test "should
// block all requests if max is set to 0"). A larder limiter cannot have a limit of 0, so the
// application keeps its limiter and sets express-rate-limit's limit to 0.
describe('ExpressRateLimitStore under limit: 0', () => {
  let redis: RedisServer | undefined;
  const caches: Cache[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const cache of caches) await cache.close();
    await redis?.stop();
  });
  let n = 0;
  const backends = [
    { name: 'memory', store: () => createMemoryStore() },
    { name: 'redis', store: () => createRedisStore({ url: redis!.url, commandTimeoutMs: 2000 }) },
  ];
  const limiterOn = (backend: (typeof backends)[number]) => {
    const cache = new Cache({ store: backend.store(), prefix: `erl-zero-${process.pid}-${++n}:` });
    caches.push(cache);
    return cache.rateLimiter({ limit: 3, window: '1m', algorithm: 'sliding' });
  };
  const cases = versions.flatMap((v) => backends.map((backend) => ({ ...v, backend })));

  describe.each(cases)('$name on $backend.name', ({ rateLimit, backend }) => {
    const serve = (limiter: ExpressRateLimitStore, options: Record<string, unknown>) => {
      const app = express();
      app.use(
        rateLimit({
          windowMs: 60_000,
          store: limiter,
          standardHeaders: 'draft-8',
          legacyHeaders: false,
          keyGenerator: () => 'client',
          // express-rate-limit's warning that 0 blocked nothing before v7 (its own test turns it off too).
          validate: { limit: false },
          ...(rateLimit === erl8 ? { logger } : {}),
          ...options,
        } as never),
      );
      app.get('/', (_req, res) => void res.send('ok'));
      return app;
    };

    it("answers every request 429 without counting; the limiter's limit holds again after", async () => {
      const limiter = limiterOn(backend);
      const blocked = serve(new ExpressRateLimitStore({ limiter }), { limit: 0 });
      for (let i = 0; i < 5; i++) {
        const res = await request(blocked).get('/').expect(429);
        const retryAfter = Number(res.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(res.headers.ratelimit).toMatch(/r=0;/);
      }
      expect((await limiter.peek('erl:client')).remaining).toBe(3);
      // Maintenance over: express-rate-limit with the limiter's limit admits it in full.
      const open = serve(new ExpressRateLimitStore({ limiter }), { limit: 3 });
      for (let i = 0; i < 3; i++) await request(open).get('/').expect(200);
      await request(open).get('/').expect(429);
      expect(logged).toEqual([]);
    });

    it('gives nothing back for its 429s under skipFailedRequests', async () => {
      const limiter = limiterOn(backend);
      await limiter.hit('erl:client');
      await limiter.hit('erl:client');
      const store = new ExpressRateLimitStore({ limiter });
      const decrement = vi.spyOn(store, 'decrement');
      const blocked = serve(store, { limit: 0, skipFailedRequests: true });
      for (let i = 0; i < 3; i++) await request(blocked).get('/').expect(429);
      // express-rate-limit calls decrement once each 429 has finished: wait for the three calls to settle.
      await vi.waitFor(() => expect(decrement).toHaveBeenCalledTimes(3));
      await Promise.all(decrement.mock.results.map((r) => r.value));
      expect((await limiter.peek('erl:client')).remaining).toBe(1);
      expect(logged).toEqual([]);
    });
  });
});
