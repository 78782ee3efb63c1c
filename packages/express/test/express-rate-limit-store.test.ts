import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import express from 'express';
import erl7 from 'express-rate-limit-7';
import erl8 from 'express-rate-limit-8';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpressRateLimitStore } from '../src/index';

// express-rate-limit 7 and 8 with larder's store: their own validations run (and report through
// console in 7, the `logger` option in 8); the store must pass them all, silently.
const versions = [
  { name: 'express-rate-limit 7', rateLimit: erl7 as unknown as typeof erl8 },
  { name: 'express-rate-limit 8', rateLimit: erl8 },
];

describe.each(versions)('ExpressRateLimitStore with $name', ({ rateLimit }) => {
  const logged: unknown[] = [];
  const logger = { warn: (...args: unknown[]) => logged.push(args), error: (...args: unknown[]) => logged.push(args) };
  beforeEach(() => {
    logged.length = 0;
    vi.spyOn(console, 'warn').mockImplementation((...args) => void logged.push(args));
    vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args));
  });
  afterEach(() => vi.restoreAllMocks());

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
  });
});
