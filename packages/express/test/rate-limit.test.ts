import { BackendError, Cache } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';
import { createMemoryStore } from '@larder/memory';
import express from 'express';
import { parseItem, parseList } from 'structured-headers';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { rateLimit } from '../src/index';

/** A memory-backed cache whose store can be switched down (rateLimit rejects like an unreachable server). */
function cacheWithSwitch() {
  const memory = createMemoryStore();
  const state = { down: false };
  const store: CacheStore = {
    driver: 'switch',
    capabilities: { ...memory.capabilities, inProcess: false, rawValues: false, checksRawValues: false },
    get: (k) => memory.get(k),
    set: (k, p, t) => memory.set(k, p, t),
    delete: (k) => memory.delete(k),
    rateLimit: (k, r) =>
      state.down ? Promise.reject(new BackendError('switch is down', 'switch')) : memory.rateLimit!(k, r),
  };
  return { cache: new Cache({ store, timeout: 200 }), state };
}

function app(middleware: express.RequestHandler) {
  const a = express();
  const errors: unknown[] = [];
  a.get('/health', (_req, res) => void res.send('ok'));
  a.use(middleware);
  a.get('/', (_req, res) => void res.send(`hi ${JSON.stringify(res.locals.rateLimit?.remaining)}`));
  a.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(error);
    res.status(500).send('error');
  });
  return { app: a, errors };
}

describe('rateLimit middleware', () => {
  it('sends the IETF RateLimit-Policy and RateLimit headers, then 429 with Retry-After', async () => {
    const limiter = new Cache({ store: createMemoryStore() }).rateLimiter({ limit: 3, window: '1m' });
    const { app: a } = app(rateLimit({ limiter, key: (req) => req.ip ?? 'unknown', policy: 'per-ip' }));
    for (let i = 0; i < 3; i++) {
      const res = await request(a).get('/').expect(200);
      expect(res.text).toBe(`hi ${2 - i}`);
      // Structured fields (RFC 9651): a list with one named policy, its parameters.
      const [policy] = parseList(String(res.headers['ratelimit-policy']));
      expect(policy![0]).toBe('per-ip');
      expect(Object.fromEntries(policy![1])).toEqual({ q: 3, w: 60 });
      const [name, params] = parseItem(String(res.headers.ratelimit));
      expect(name).toBe('per-ip');
      expect(Object.fromEntries(params)).toEqual({ r: 2 - i, t: 60 });
      expect(res.headers['retry-after']).toBeUndefined();
    }
    const denied = await request(a).get('/').expect(429);
    expect(denied.text).toBe('Too Many Requests');
    expect(Number(denied.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(Number(denied.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(Object.fromEntries(parseItem(String(denied.headers.ratelimit))[1])).toMatchObject({ r: 0 });
  });

  it('skip: neither counted nor given headers; cost weighs a request', async () => {
    const limiter = new Cache({ store: createMemoryStore() }).rateLimiter({ limit: 5, window: '10s' });
    const { app: a } = app(
      rateLimit({
        limiter,
        key: () => 'k',
        skip: (req) => req.query.free === '1',
        cost: (req) => Number(req.query.cost ?? 1),
      }),
    );
    const free = await request(a).get('/?free=1').expect(200);
    expect(free.headers.ratelimit).toBeUndefined();
    expect((await request(a).get('/?cost=4').expect(200)).headers.ratelimit).toBe('"default";r=1;t=10');
    await request(a).get('/?cost=2').expect(429);
    await request(a).get('/?cost=1').expect(200);
  });

  it('bad input goes to the error handler with its typed error; nothing counted', async () => {
    const limiter = new Cache({ store: createMemoryStore() }).rateLimiter({ limit: 2, window: '10s' });
    const { app: a, errors } = app(rateLimit({ limiter, key: (req) => String(req.query.k ?? ''), cost: 1 }));
    await request(a).get('/').expect(500);
    expect(errors[0]).toMatchObject({ code: 'E_INVALID_KEY' });
    const { app: b, errors: costErrors } = app(rateLimit({ limiter, key: () => 'k', cost: 3 }));
    await request(b).get('/').expect(500);
    expect(costErrors[0]).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'cost' });
    expect((await limiter.peek('k')).remaining).toBe(2);
  });

  it("store down: 'closed' answers 429 (Retry-After 1), 'open' lets the request through", async () => {
    const { cache, state } = cacheWithSwitch();
    const closed = app(rateLimit({ limiter: cache.rateLimiter({ limit: 5, window: '1m' }), key: () => 'k' })).app;
    const open = app(
      rateLimit({ limiter: cache.rateLimiter({ limit: 5, window: '1m', onStoreDown: 'open' }), key: () => 'k' }),
    ).app;
    state.down = true;
    const denied = await request(closed).get('/').expect(429);
    expect(denied.headers['retry-after']).toBe('1');
    await request(open).get('/').expect(200);
  });

  it('refuses a missing limiter or key function at setup', () => {
    expect(() => rateLimit({ limiter: undefined as never, key: () => 'k' })).toThrow(/limiter/);
    expect(() =>
      rateLimit({
        limiter: new Cache({ store: createMemoryStore() }).rateLimiter({ limit: 1, window: 1000 }),
        key: 'ip' as never,
      }),
    ).toThrow(/key function/);
  });
});
