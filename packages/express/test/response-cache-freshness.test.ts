import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidate, responseCache } from '../src/index';
import { cacheFor, rcBackends, serve, until, untilHit } from './response-cache-harness';

// Issue 20, defects 4-6: freshness, methods and invalidation.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('responseCache freshness, methods, invalidate ($name)', (backend) => {
  it.each([
    ['max-age=1', { 'Cache-Control': 'max-age=1' }],
    ['s-maxage=1 (wins over max-age for a shared cache)', { 'Cache-Control': 'max-age=60, s-maxage=1' }],
    ['Expires in 1 s', { Expires: 'EXPIRES' }],
  ])('serves %s under ttl 60s for at most a second (RFC 9111 §4.2.1)', async (_name, headers) => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '60s' });
    const app = express();
    let stored = 0;
    app.get('/news', rc, (_req, res) => {
      if (stored === 0) stored = Date.now();
      for (const [name, value] of Object.entries(headers)) {
        res.set(name, value === 'EXPIRES' ? new Date(Date.now() + 1500).toUTCString() : value);
      }
      res.send(`news of ${stored}`);
    });
    const served = await serve(app);
    try {
      await served.get('/news');
      const hit = await untilHit(served, '/news');
      expect(Number(hit.headers.age)).toBeLessThanOrEqual(1);
      // Expires has a one-second resolution: it ends within [0.5 s, 1.5 s] of the store.
      await until(async () => (await served.get('/news')).headers['x-cache'] === 'MISS', 4000, 'the entry to go stale');
      expect(Date.now() - stored).toBeGreaterThanOrEqual(450);
      expect(Date.now() - stored).toBeLessThan(3000);
    } finally {
      await served.close();
    }
  });

  it('counts the response’s own Age: `max-age=60` with `Age: 50` has 10 s left; `max-age=0` is not stored', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '60s' });
    const app = express();
    app.get('/aged', rc, (_req, res) => {
      res.set({ 'Cache-Control': 'max-age=60', Age: '50' }).send('aged');
    });
    app.get('/zero', rc, (_req, res) => {
      res.set('Cache-Control', 'max-age=0').send('zero');
    });
    const served = await serve(app);
    try {
      await served.get('/aged');
      const hit = await untilHit(served, '/aged');
      expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(50);
      const ttl = Number(/ttl=(\d+)/.exec(String(hit.headers['cache-status']))?.[1]);
      expect(ttl).toBeLessThanOrEqual(10);
      expect(ttl).toBeGreaterThanOrEqual(8);
      const zero = await served.get('/zero');
      expect(zero.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=stale');
      await rc.settled();
      expect((await served.get('/zero')).headers['x-cache']).toBe('MISS');
    } finally {
      await served.close();
    }
  });

  it('only GET fills the cache: a POST is never stored nor served, `methods` naming POST is a ConfigError', async () => {
    expect(() => responseCache({ cache: backend.cache(), ttl: '1m', methods: ['GET', 'HEAD', 'POST'] })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(rc);
    app.all('/search', (req, res) => {
      res.send(`results for ${req.body?.q ?? req.query.q ?? 'nothing'}`);
    });
    const served = await serve(app);
    try {
      const alice = await served.request('/search', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'q=alice-secret',
      });
      expect(alice.text).toBe('results for alice-secret');
      expect(alice.headers['cache-status']).toBe('larder; fwd=method');
      await rc.settled();
      expect((await served.get('/search')).text).toBe('results for nothing');
      const bob = await served.request('/search', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'q=bob',
      });
      expect(bob.text).toBe('results for bob');
    } finally {
      await served.close();
    }
  });

  it('an unsafe method with a non-error status invalidates the URI’s entries before its response ends (§4.4)', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let version = 1;
    const app = express();
    app.use(rc);
    app.get('/item', (_req, res) => {
      res.send(`item v${version}`);
    });
    app.put('/item', (_req, res) => {
      version++;
      res.send('updated');
    });
    app.delete('/item', (_req, res) => {
      res.status(403).send('forbidden');
    });
    const served = await serve(app);
    try {
      await served.get('/item');
      expect((await untilHit(served, '/item')).text).toBe('item v1');
      // An error status invalidates nothing.
      expect((await served.request('/item', { method: 'DELETE' })).status).toBe(403);
      expect((await served.get('/item')).headers['x-cache']).toBe('HIT');
      await served.request('/item', { method: 'PUT' });
      // Read-your-writes: the very next GET misses and sees the update.
      const after = await served.get('/item');
      expect(after.text).toBe('item v2');
      expect(after.headers['x-cache']).toBe('MISS');
    } finally {
      await served.close();
    }
  });

  it('HEAD is answered from a GET’s entry; a cold HEAD does not fill the cache', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let runs = 0;
    const app = express();
    app.get('/doc', rc, (_req, res) => {
      runs++;
      res.send('document body');
    });
    const served = await serve(app);
    try {
      const cold = await served.request('/doc', { method: 'HEAD' });
      expect(cold.headers['x-cache']).toBe('MISS');
      await rc.settled();
      expect((await served.get('/doc')).headers['x-cache']).toBe('MISS');
      await rc.settled();
      expect((await served.get('/doc')).headers['x-cache']).toBe('HIT');
      const head = await served.request('/doc', { method: 'HEAD' });
      expect(head.headers['x-cache']).toBe('HIT');
      expect(head.headers['content-length']).toBe('13');
      expect(head.body.length).toBe(0);
      expect(runs).toBe(2);
    } finally {
      await served.close();
    }
  });

  it('invalidate(url) removes every variant, whatever the `vary` and `key` options and the response’s Vary', async () => {
    const cache = backend.cache();
    const byOption = cacheFor({ cache, ttl: '1m', vary: ['accept-language'], prefix: 'a' });
    const byVary = cacheFor({ cache, ttl: '1m', prefix: 'b' });
    const byKey = cacheFor({
      cache,
      ttl: '1m',
      prefix: 'c',
      key: (req) => String(req.url).split('?')[0] as string,
    });
    let version = 1;
    const app = express();
    app.get('/option', byOption, (req, res) => {
      res.send(`${req.get('accept-language')} v${version}`);
    });
    app.get('/vary', byVary, (req, res) => {
      res.vary('Accept-Language').send(`${req.get('accept-language')} v${version}`);
    });
    app.get('/keyed', byKey, (_req, res) => {
      res.send(`keyed v${version}`);
    });
    const served = await serve(app);
    try {
      for (const path of ['/option', '/vary']) {
        for (const lang of ['fr', 'de']) {
          await served.get(path, { 'accept-language': lang });
          await untilHit(served, path, { 'accept-language': lang });
        }
      }
      await served.get('/keyed?a=1');
      await untilHit(served, '/keyed?b=2');
      await untilHit(served, '/vary', { 'accept-language': 'fr', host: 'b.example' });
      version = 2;
      expect(await byOption.invalidate('/option')).toBe(true);
      expect(await byVary.invalidate('/vary')).toBe(true);
      expect(await byKey.invalidate('/keyed?c=3')).toBe(true);
      for (const path of ['/option', '/vary']) {
        for (const lang of ['fr', 'de']) {
          const reply = await served.get(path, { 'accept-language': lang });
          expect(reply.text).toBe(`${lang} v2`);
          expect(reply.headers['x-cache']).toBe('MISS');
        }
      }
      // A relative URL invalidates it on every host.
      expect((await served.get('/vary', { 'accept-language': 'fr', host: 'b.example' })).text).toBe('fr v2');
      expect((await served.get('/keyed?a=1')).text).toBe('keyed v2');
      // The standalone function, with the default key.
      await untilHit(served, '/vary', { 'accept-language': 'fr' });
      version = 3;
      expect(await invalidate(cache, '/vary', { prefix: 'b' })).toBe(true);
      expect((await served.get('/vary', { 'accept-language': 'fr' })).text).toBe('fr v3');
      expect(await invalidate(cache, '/never-cached', { prefix: 'b' })).toBe(false);
    } finally {
      await served.close();
    }
  });
});
