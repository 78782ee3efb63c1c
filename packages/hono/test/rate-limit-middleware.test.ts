import { Hono } from 'hono';
import { parseItem, parseList } from 'structured-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends } from '../../http/test/harness';
import { type RateLimitVariables, rateLimit } from '../src/index';
import { serveHono } from './serve';

// @larder/hono's own rateLimit middleware (the Express middleware's headers and answers), over
// HTTP on @hono/node-server, on memory and a real redis-server.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends.map((backend) => [backend.name, backend] as const))('rateLimit (Hono), %s', (_, backend) => {
  it('sends the IETF RateLimit-Policy and RateLimit headers, the decision on c.get, then 429 with Retry-After', async () => {
    const limiter = backend.cache().rateLimiter({ limit: 3, window: '1m' });
    const app = new Hono<{ Variables: RateLimitVariables }>();
    app.use(rateLimit({ limiter, key: (c) => c.req.header('x-user') ?? 'anon', policy: 'per-user' }));
    app.get('/', (c) => c.text(`hi ${c.get('rateLimit').remaining}`));
    const served = await serveHono(app);
    try {
      for (let i = 0; i < 3; i++) {
        const reply = await served.get('/', { 'x-user': 'ada' });
        expect(reply.status).toBe(200);
        expect(reply.text).toBe(`hi ${2 - i}`);
        const [policy] = parseList(String(reply.headers['ratelimit-policy']));
        expect(policy![0]).toBe('per-user');
        expect(Object.fromEntries(policy![1])).toEqual({ q: 3, w: 60 });
        const [name, params] = parseItem(String(reply.headers.ratelimit));
        expect(name).toBe('per-user');
        expect(Object.fromEntries(params)).toEqual({ r: 2 - i, t: 60 });
        expect(reply.headers['retry-after']).toBeUndefined();
      }
      const denied = await served.get('/', { 'x-user': 'ada' });
      expect(denied.status).toBe(429);
      expect(denied.text).toBe('Too Many Requests');
      expect(Number(denied.headers['retry-after'])).toBeGreaterThanOrEqual(59);
      expect(Number(denied.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(Object.fromEntries(parseItem(String(denied.headers.ratelimit))[1])).toMatchObject({ r: 0 });
      // Another key has its own count.
      expect((await served.get('/', { 'x-user': 'bob' })).status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it('skip: neither counted nor given headers; cost weighs a request; a custom answer when limited', async () => {
    const limiter = backend.cache().rateLimiter({ limit: 5, window: '10s' });
    const app = new Hono();
    app.use(
      rateLimit({
        limiter,
        key: () => 'k',
        skip: (c) => c.req.query('free') === '1',
        cost: (c) => Number(c.req.query('cost') ?? 1),
        limited: (c, decision) => c.json({ error: 'slow down', retryInMs: decision.retryAfterMs }, 429),
      }),
    );
    app.get('/', (c) => c.text('ok'));
    const served = await serveHono(app);
    try {
      const free = await served.get('/?free=1');
      expect(free.status).toBe(200);
      expect(free.headers.ratelimit).toBeUndefined();
      const heavy = await served.get('/?cost=4');
      expect(heavy.headers.ratelimit).toBe('"default";r=1;t=10');
      const denied = await served.get('/?cost=2');
      expect(denied.status).toBe(429);
      expect(JSON.parse(denied.text)).toMatchObject({ error: 'slow down' });
      expect(denied.headers['retry-after']).toBeDefined();
      expect((await served.get('/?cost=1')).status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it('stamps a handler response whose headers are immutable (Response.redirect)', async () => {
    const limiter = backend.cache().rateLimiter({ limit: 2, window: '1m' });
    const app = new Hono();
    app.use(rateLimit({ limiter, key: () => 'r' }));
    app.get('/', () => Response.redirect('http://a.example/elsewhere', 302));
    const served = await serveHono(app);
    try {
      const reply = await served.get('/');
      expect(reply.status).toBe(302);
      expect(reply.headers.location).toBe('http://a.example/elsewhere');
      expect(reply.headers.ratelimit).toBe('"default";r=1;t=60');
    } finally {
      await served.close();
    }
  });

  it("bad input reaches Hono's onError with its typed error; nothing counted", async () => {
    const limiter = backend.cache().rateLimiter({ limit: 2, window: '10s' });
    const errors: unknown[] = [];
    const app = new Hono();
    app.onError((error, c) => {
      errors.push(error);
      return c.text('error', 500);
    });
    app.use('/empty', rateLimit({ limiter, key: () => '' }));
    app.use('/heavy', rateLimit({ limiter, key: () => 'k', cost: 3 }));
    app.get('/*', (c) => c.text('ok'));
    const served = await serveHono(app);
    try {
      expect((await served.get('/empty')).status).toBe(500);
      expect(errors[0]).toMatchObject({ code: 'E_INVALID_KEY' });
      expect((await served.get('/heavy')).status).toBe(500);
      expect(errors[1]).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'cost' });
      expect((await limiter.peek('k')).remaining).toBe(2);
    } finally {
      await served.close();
    }
  });
});

describe('rateLimit (Hono): bad options', () => {
  const limiter = () => env.backends[0]!.cache().rateLimiter({ limit: 1, window: 1000 });
  it.each([
    ['limiter', () => rateLimit({ limiter: undefined as never, key: () => 'k' })],
    ['key', () => rateLimit({ limiter: limiter(), key: 'ip' as never })],
    ['policy', () => rateLimit({ limiter: limiter(), key: () => 'k', policy: '' })],
    ['policy', () => rateLimit({ limiter: limiter(), key: () => 'k', policy: 'naïve' })],
  ])('a bad %s is a ConfigError naming it', (variable, make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'E_CONFIG', variable }));
  });
});
