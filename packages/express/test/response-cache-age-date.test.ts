import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, type Reply, rcBackends, type Served, serve, until, untilHit } from './response-cache-harness';

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

  /** Requests `path` until a hit's Age is at least `age` (it counts whole seconds since it was stored). */
  async function untilAged(served: Served, path: string, age = 1): Promise<Reply> {
    let reply: Reply | undefined;
    await until(
      async () => {
        reply = await served.get(path);
        return reply.headers['x-cache'] === 'HIT' && Number(reply.headers.age) >= age;
      },
      5000,
      `${path} to be ${age} s old`,
    );
    return reply as Reply;
  }

  it('a hit keeps the Date the response was sent with (not the time of the hit), and Age says how old it is since', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.get('/dated', rc, (_req, res) => {
      res.send('dated');
    });
    const served = await serve(app);
    try {
      const miss = await served.get('/dated');
      const date = miss.headers.date;
      expect(date).toBeDefined();
      const first = await untilHit(served, '/dated');
      expect(first.headers.date).toBe(date);
      const aged = await untilAged(served, '/dated');
      expect(aged.headers.date).toBe(date);
      // Date + Age is now (both in whole seconds).
      const now = Date.now();
      const sent = Date.parse(String(date)) + Number(aged.headers.age) * 1000;
      expect(sent).toBeGreaterThan(now - 2500);
      expect(sent).toBeLessThanOrEqual(now + 1000);
      // A 304 from the entry carries it too (RFC 9110 §15.4.5).
      const notModified = await served.get('/dated', { 'if-none-match': String(miss.headers.etag) });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.date).toBe(date);
    } finally {
      await served.close();
    }
  });

  it('a Date and an Age set by the handler (a proxied response) are replayed as given, Age growing from it', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    const upstreamDate = new Date(Date.now() - 3000).toUTCString();
    app.get('/proxied', rc, (_req, res) => {
      res.set({ Date: upstreamDate, Age: '5', 'Cache-Control': 'max-age=60' }).send('from upstream');
    });
    const served = await serve(app);
    try {
      expect((await served.get('/proxied')).headers.date).toBe(upstreamDate);
      const hit = await untilHit(served, '/proxied');
      expect(hit.headers.date).toBe(upstreamDate);
      expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(5);
      const aged = await untilAged(served, '/proxied', 6);
      expect(aged.headers.date).toBe(upstreamDate);
      expect(Number(aged.headers.age)).toBeGreaterThanOrEqual(6);
    } finally {
      await served.close();
    }
  });

  it('a response sent without Date (sendDate off) gets the time it was stored, kept on every hit', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.get('/undated', rc, (_req, res) => {
      res.sendDate = false;
      res.send('undated');
    });
    const served = await serve(app);
    try {
      const before = Math.floor(Date.now() / 1000) * 1000;
      expect((await served.get('/undated')).headers.date).toBeUndefined();
      const first = await untilHit(served, '/undated');
      const stored = Date.parse(String(first.headers.date));
      expect(stored).toBeGreaterThanOrEqual(before);
      expect(stored).toBeLessThanOrEqual(Date.now());
      const aged = await untilAged(served, '/undated');
      expect(aged.headers.date).toBe(first.headers.date);
    } finally {
      await served.close();
    }
  });
});
