import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOf, closeServer, rcBackends, until } from '../../http/test/harness';
import { responseCache } from '../src/index';

// RFC 5861 §3 on Fastify: the stale entry answers at once, one copy goes through the router behind.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('fastify responseCache stale-while-revalidate ($name)', (backend) => {
  it('serves the stale body at once to 5 concurrent requests, one background run, then fresh', async () => {
    const app = Fastify();
    await app.register(responseCache, { cache: backend.cache(), ttl: '1m', lookupBudget: '3s' });
    let runs = 0;
    let release: () => void = () => {};
    const revalidation = new Promise<void>((resolve) => {
      release = resolve;
    });
    app.get('/board', async (_request, reply) => {
      runs++;
      // The revalidation waits for the test: the five stale requests are all answered meanwhile.
      if (runs === 2) await revalidation;
      reply.header('cache-control', 'max-age=1, stale-while-revalidate=30');
      return `board v${runs}`;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const served = clientOf((app.server.address() as { port: number }).port, () => closeServer(app.server));
    try {
      await served.get('/board');
      const at = Date.now();
      await app.responseCache.settled();
      expect((await served.get('/board')).headers['x-cache']).toBe('HIT');
      await until(() => Date.now() > at + 1100, 3000, 'the entry to go stale');
      const replies = await Promise.all(Array.from({ length: 5 }, () => served.get('/board')));
      release();
      for (const reply of replies) {
        expect(reply.text).toBe('board v1');
        expect(reply.headers['cache-status']).toBe('larder; hit; fwd=stale; detail=stale-while-revalidate');
      }
      await until(() => runs === 2, 3000, 'the background run');
      await app.responseCache.settled();
      const fresh = await served.get('/board');
      expect(fresh.text).toBe('board v2');
      expect(fresh.headers['x-cache']).toBe('HIT');
      expect(runs).toBe(2);
    } finally {
      await served.close();
      await app.close();
    }
  });
});
