import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, untilHit } from './response-cache-harness';

// Issue 40, defects 3 and 4: the `Age` a response arrives with (RFC 9111 §5.1) and the `Date` a hit
// keeps (RFC 9110 §6.6.1).
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

const ttlOf = (status: unknown) => Number(/ttl=(\d+)/.exec(String(status))?.[1]);

describe.each(env.backends)('responseCache: Age and Date ($name)', (backend) => {
  it('a list-valued Age counts by its first member: `Age: 7200, 0` under max-age=3600 is stale, `Age: 10, 7200` has 50 s left', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1h' });
    const app = express();
    let runs = 0;
    app.get('/old', rc, (_req, res) => {
      runs++;
      res.set({ 'Cache-Control': 'max-age=3600', Age: '7200, 0' }).send('old');
    });
    app.get('/old-lines', rc, (_req, res) => {
      // Two field lines: Node sends `Age: 7200` and `Age: 0`.
      res.setHeader('Age', ['7200', '0']);
      res.set('Cache-Control', 'max-age=3600').send('old lines');
    });
    app.get('/young', rc, (_req, res) => {
      res.set({ 'Cache-Control': 'max-age=60', Age: '10, 7200' }).send('young');
    });
    const served = await serve(app);
    try {
      for (const path of ['/old', '/old-lines']) {
        const first = await served.get(path);
        expect(first.headers['cache-status'], path).toBe('larder; fwd=uri-miss; detail=stale');
        await rc.settled();
        expect((await served.get(path)).headers['x-cache'], path).toBe('MISS');
      }
      expect(runs).toBe(2);
      await served.get('/young');
      const hit = await untilHit(served, '/young');
      expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(10);
      expect(Number(hit.headers.age)).toBeLessThan(13);
      expect(ttlOf(hit.headers['cache-status'])).toBeGreaterThanOrEqual(47);
      expect(ttlOf(hit.headers['cache-status'])).toBeLessThanOrEqual(50);
    } finally {
      await served.close();
    }
  });

  it.each(['abc', '-5', '1.5', '0x10', ''])('an invalid Age (%j) keeps the response out of the cache', async (age) => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1h' });
    const app = express();
    app.get('/bad-age', rc, (_req, res) => {
      res.set({ 'Cache-Control': 'max-age=3600', Age: age }).send('unknown age');
    });
    const served = await serve(app);
    try {
      const first = await served.get('/bad-age');
      expect(first.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=stale');
      await rc.settled();
      expect((await served.get('/bad-age')).headers['x-cache']).toBe('MISS');
    } finally {
      await served.close();
    }
  });
});
