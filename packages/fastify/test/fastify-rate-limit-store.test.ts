import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { rcBackends } from '../../http/test/harness';
import { rateLimitStore } from '../src/index';

// @fastify/rate-limit's own store tests, with larder's store swapped in: ported from
// @fastify/rate-limit 11.2.0, test/redis-rate-limit.test.js (it ships in the npm tarball, but each
// case registers the plugin with `redis: <ioredis client>` on 127.0.0.1:6379, its built-in
// RedisStore, so the store cannot be swapped without editing the cases). The cases keep their
// describe and test names and their assertions (node:test's t.assert.* as vitest's expect); only
// `redis` becomes `store: rateLimitStore({ cache })`, `nameSpace: 'my-namespace:'` its
// `name: 'my-namespace'` (larder adds the separator), and they run on
// memory and a real redis-server.
//
// Left out, and why:
// - 'With redis store (ban)', 'When continue exceeding is on (Redis)', 'Redis with continueExceeding
//   should not always return the timeWindow as ttl', 'With redis store and exponential backoff'
//   (Global), 'When continue exceeding is on (Redis)', 'When continue exceeding is off under route
//   (Redis)', 'Route-specific exponential backoff with redis store' (Route): `ban` above 0,
//   `continueExceeding` and `exponentialBackoff` are store behaviours larder's store does not have
//   (a larder decision does not count a refused hit and keeps its window); the store refuses them
//   with a ConfigError (test/plugin.test.ts) rather than ignoring them.
// - 'Skip on redis error', 'Throw on redis error', 'With { increment: false } it throws on redis
//   error' (Global and Route): they quit the ioredis client under the plugin and test its
//   `skipOnError`; larder's store answers a down store by the limiter's `onStoreDown` instead of an
//   error (test/rate-limit-store-down.test.ts freezes a real redis-server for each mode).
// - The other files' 'With CustomStore' and 'timeWindow specified as a string' cases test the
//   plugin with a fake store they define; test/exponential-backoff.test.js and
//   test/local-store-close.test.js test its LocalStore.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('@fastify/rate-limit store tests on rateLimitStore ($name)', (backend) => {
  // The cases wait out a 1 s window each: run them side by side (each has its own cache prefix).
  describe.concurrent('Global rate limit', () => {
    it('With redis store', async ({ expect }) => {
      const fastify = Fastify();
      await fastify.register(fastifyRateLimit, {
        max: 2,
        timeWindow: 1000,
        store: rateLimitStore({ cache: backend.cache() }),
      });

      fastify.get('/', async () => 'hello!');

      let res: LightMyRequestResponse;

      res = await fastify.inject('/');
      expect(res.statusCode).toBe(200);
      expect(res).toBeTruthy();
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('1');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');

      res = await fastify.inject('/');
      expect(res.statusCode).toEqual(200);
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('0');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');

      await sleep(100);

      res = await fastify.inject('/');
      expect(res.statusCode).toEqual(429);
      expect(res.headers['content-type']).toEqual('application/json; charset=utf-8');
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('0');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');
      expect(res.headers['retry-after']).toEqual('1');
      expect(JSON.parse(res.payload)).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'Rate limit exceeded, retry in 1 second',
      });

      // Not using fake timers here as we use an external Redis that would not be effected by this
      await sleep(1100);

      res = await fastify.inject('/');

      expect(res.statusCode).toEqual(200);
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('1');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');
      await fastify.close();
    });

    it('When use a custom nameSpace', async ({ expect }) => {
      const fastify = Fastify();

      await fastify.register(fastifyRateLimit, {
        max: 2,
        timeWindow: 1000,
        store: rateLimitStore({ cache: backend.cache(), name: 'my-namespace' }),
        keyGenerator: (req) => String(req.headers['x-my-header']),
      });

      fastify.get('/', async () => 'hello!');

      const allowListHeader = {
        method: 'GET' as const,
        url: '/',
        headers: {
          'x-my-header': 'custom name space',
        },
      };

      let res: LightMyRequestResponse;

      res = await fastify.inject(allowListHeader);
      expect(res.statusCode).toEqual(200);
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('1');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');

      res = await fastify.inject(allowListHeader);
      expect(res.statusCode).toEqual(200);
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('0');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');

      res = await fastify.inject(allowListHeader);
      expect(res.statusCode).toEqual(429);
      expect(res.headers['content-type']).toEqual('application/json; charset=utf-8');
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('0');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');
      expect(res.headers['retry-after']).toEqual('1');
      expect(JSON.parse(res.payload)).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'Rate limit exceeded, retry in 1 second',
      });

      // Not using fake timers here as we use an external Redis that would not be effected by this
      await sleep(1100);

      res = await fastify.inject(allowListHeader);

      expect(res.statusCode).toEqual(200);
      expect(res.headers['x-ratelimit-limit']).toEqual('2');
      expect(res.headers['x-ratelimit-remaining']).toEqual('1');
      expect(res.headers['x-ratelimit-reset']).toEqual('1');
      await fastify.close();
    });

    it('With { increment: false } it reads the state without consuming it', async ({ expect }) => {
      const fastify = Fastify();
      await fastify.register(fastifyRateLimit, {
        global: false,
        max: 2,
        timeWindow: 1000,
        store: rateLimitStore({ cache: backend.cache() }),
      });

      const checkRateLimit = fastify.createRateLimit();

      fastify.get('/peek', async (req) => checkRateLimit(req, { increment: false }));
      fastify.get('/consume', async (req) => checkRateLimit(req));

      let res: LightMyRequestResponse;

      // Peek before any request: clean state, nothing consumed
      res = await fastify.inject('/peek');
      expect(res.json().remaining).toEqual(2);

      // Consume one request
      res = await fastify.inject('/consume');
      expect(res.json().remaining).toEqual(1);

      // Peek again: reads the active window without consuming (remaining stays 1)
      res = await fastify.inject('/peek');
      expect(res.json().remaining).toEqual(1);

      // Consume again: the limit is now reached
      res = await fastify.inject('/consume');
      expect(res.json().remaining).toEqual(0);

      // Peek once more: still 0, state was not mutated
      res = await fastify.inject('/peek');
      expect(res.json().remaining).toEqual(0);
      await fastify.close();
    });
  });

  describe.concurrent('Route rate limit', () => {
    it('With redis store', async ({ expect }) => {
      const fastify = Fastify();
      await fastify.register(fastifyRateLimit, {
        global: false,
        store: rateLimitStore({ cache: backend.cache() }),
      });

      fastify.get(
        '/',
        {
          config: {
            rateLimit: {
              max: 2,
              timeWindow: 1000,
            },
            someOtherPlugin: {
              someValue: 1,
            },
          },
        },
        async () => 'hello!',
      );

      let res: LightMyRequestResponse;

      res = await fastify.inject('/');
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('2');
      expect(res.headers['x-ratelimit-remaining']).toBe('1');
      expect(res.headers['x-ratelimit-reset']).toBe('1');

      res = await fastify.inject('/');
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('2');
      expect(res.headers['x-ratelimit-remaining']).toBe('0');
      expect(res.headers['x-ratelimit-reset']).toBe('1');

      res = await fastify.inject('/');
      expect(res.statusCode).toBe(429);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-ratelimit-limit']).toBe('2');
      expect(res.headers['x-ratelimit-remaining']).toBe('0');
      expect(res.headers['x-ratelimit-reset']).toBe('1');
      expect(res.headers['retry-after']).toBe('1');
      expect(JSON.parse(res.payload)).toEqual({
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'Rate limit exceeded, retry in 1 second',
      });

      // Not using fake timers here as we use an external Redis that would not be effected by this
      await sleep(1100);

      res = await fastify.inject('/');
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('2');
      expect(res.headers['x-ratelimit-remaining']).toBe('1');
      expect(res.headers['x-ratelimit-reset']).toBe('1');
      await fastify.close();
    });
  });
});
