import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, filled, rcBackends, serve, until } from './response-cache-harness';

// RFC 9111 §4.3: a stale entry with a validator is revalidated, not refetched blindly.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

/** Resolves once an entry stored at `at` with `max-age=1` is stale (a clock condition, no request sent). */
const stale = (at: number) => until(() => Date.now() > at + 1100, 3000, 'the entry to go stale');

describe.each(env.backends)('responseCache revalidation ($name)', (backend) => {
  it('asks with If-None-Match once; Express’s 304 keeps the stored body and refreshes freshness (§4.3.1, §4.3.4)', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const asked: (string | undefined)[] = [];
    const app = express();
    app.get('/doc', rc, async (req, res) => {
      asked.push(req.get('if-none-match'));
      // The conditional run answers once the four other requests wait on it.
      if (req.get('if-none-match')) await until(() => rc.stats().waiting === 4, 3000, 'four followers');
      res.set('Cache-Control', 'max-age=1').send('the document');
    });
    const served = await serve(app);
    try {
      const { first, at } = await filled(served, rc, '/doc');
      const etag = first.headers.etag;
      expect(etag).toBeDefined();
      await stale(at);
      // Five concurrent requests for the stale entry: one conditional handler run.
      const replies = await Promise.all(Array.from({ length: 5 }, () => served.get('/doc')));
      expect(asked).toEqual([undefined, etag]);
      const revalidated = replies.find((r) => String(r.headers['cache-status']).includes('fwd-status'));
      expect(revalidated?.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=304; stored');
      for (const reply of replies) {
        expect(reply.status).toBe(200);
        expect(reply.text).toBe('the document');
        expect(reply.headers['content-type']).toMatch(/^text\/html/);
      }
      await rc.settled();
      const hit = await served.get('/doc');
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.text).toBe('the document');
      expect(Number(hit.headers.age)).toBeLessThanOrEqual(1);
      expect(asked).toHaveLength(2);
    } finally {
      await served.close();
    }
  });

  it('a drop by another instance while the handler revalidates wins over the refresh of an entry this one wrote', async () => {
    const cache = backend.cache();
    const rc = cacheFor({ cache, ttl: '1m' });
    // Another instance's middleware over the same store: its invalidation reaches this one only through the store.
    const other = cacheFor({ cache, ttl: '1m' });
    const asked: (string | undefined)[] = [];
    let answer: (() => void) | undefined;
    const app = express();
    app.get('/doc', rc, async (req, res) => {
      asked.push(req.get('if-none-match'));
      if (req.get('if-none-match')) await new Promise<void>((resolve) => (answer = resolve));
      res.set('Cache-Control', 'max-age=1').send('the document');
    });
    const served = await serve(app);
    try {
      const { first, at } = await filled(served, rc, '/doc');
      await stale(at);
      const revalidating = served.get('/doc');
      await until(() => answer !== undefined, 3000, 'the conditional run');
      expect(await other.invalidate('/doc')).toBe(true);
      answer?.();
      const reply = await revalidating;
      expect(reply.text).toBe('the document');
      expect(reply.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=304; stored');
      await rc.settled();
      // The refresh carries the scope's version from before the drop: it reads as dropped.
      const after = await served.get('/doc');
      expect(after.headers['x-cache']).toBe('MISS');
      expect(asked).toEqual([undefined, first.headers.etag, undefined]);
    } finally {
      await served.close();
    }
  });

  it('a 304 that leaves the entry stale (max-age=0) answers with its own headers and Age 0, and is not kept (§4.3.3)', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let headers: Record<string, string> = { 'Cache-Control': 'max-age=1' };
    const asked: (string | undefined)[] = [];
    const app = express();
    app.get('/feed', rc, (req, res) => {
      asked.push(req.get('if-none-match'));
      res.set(headers).send('the feed');
    });
    const served = await serve(app);
    try {
      const { first, at } = await filled(served, rc, '/feed');
      headers = { 'Cache-Control': 'max-age=0', 'X-Edition': '2' };
      await stale(at);
      for (let i = 0; i < 2; i++) {
        const reply = await served.get('/feed');
        expect(reply.status).toBe(200);
        expect(reply.text).toBe('the feed');
        expect(reply.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=304');
        // The stored response as the 304 updated it: not the stored max-age=1 with its age.
        expect(reply.headers['cache-control']).toBe('max-age=0');
        expect(reply.headers['x-edition']).toBe('2');
        expect(reply.headers.age).toBe('0');
        expect(reply.headers.etag).toBe(first.headers.etag);
        await rc.settled();
      }
      // Not kept: the stored entry is the 200's, and each request revalidates it again.
      expect(rc.stats().stored).toBe(1);
      expect(asked).toEqual([undefined, first.headers.etag, first.headers.etag]);
    } finally {
      await served.close();
    }
  });

  it('a changed resource (200) replaces the entry', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    let version = 1;
    const asked: (string | undefined)[] = [];
    const app = express();
    app.get('/item', rc, (req, res) => {
      asked.push(req.get('if-none-match'));
      res.set('Cache-Control', 'max-age=1').send(`item v${version}`);
    });
    const served = await serve(app);
    try {
      const { first, at } = await filled(served, rc, '/item');
      version = 2;
      await stale(at);
      const changed = await served.get('/item');
      expect(asked).toEqual([undefined, first.headers.etag]);
      expect(changed.status).toBe(200);
      expect(changed.text).toBe('item v2');
      expect(changed.headers['cache-status']).toBe('larder; fwd=stale; stored');
      await rc.settled();
      const hit = await served.get('/item');
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.text).toBe('item v2');
      expect(hit.headers.etag).toBe(changed.headers.etag);
    } finally {
      await served.close();
    }
  });

  it('Last-Modified: asks with If-Modified-Since; an app’s own 304 updates the stored headers but the body’s', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const lastModified = new Date(Date.now() - 60_000).toUTCString();
    const asked: (string | undefined)[] = [];
    let runs = 0;
    const app = express();
    app.set('etag', false);
    app.get('/report', rc, (req, res) => {
      runs++;
      asked.push(req.get('if-modified-since'));
      res.set({ 'Cache-Control': 'max-age=1', 'Last-Modified': lastModified, 'X-Run': String(runs) });
      if (req.get('if-modified-since') === lastModified) {
        // The app answers 304 itself; a Content-Type on it must not replace the stored one (§3.2).
        res.status(304).set('Content-Type', 'text/plain').end();
        return;
      }
      res.type('json').send('{"report":1}');
    });
    const served = await serve(app);
    try {
      const { at } = await filled(served, rc, '/report');
      await stale(at);
      const revalidated = await served.get('/report');
      expect(asked).toEqual([undefined, lastModified]);
      expect(revalidated.status).toBe(200);
      expect(revalidated.text).toBe('{"report":1}');
      expect(revalidated.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=304; stored');
      expect(revalidated.headers['x-run']).toBe('2');
      expect(revalidated.headers['content-type']).toMatch(/^application\/json/);
      await rc.settled();
      const hit = await served.get('/report');
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(hit.headers['x-run']).toBe('2');
      expect(hit.headers['content-type']).toMatch(/^application\/json/);
      expect(hit.text).toBe('{"report":1}');
      expect(runs).toBe(2);
    } finally {
      await served.close();
    }
  });

  it('a client’s own conditional request is answered from the refreshed entry; the handler sees the entry’s validator', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '1m' });
    const asked: (string | undefined)[] = [];
    const app = express();
    app.get('/page', rc, (req, res) => {
      asked.push(req.get('if-none-match'));
      res.set('Cache-Control', 'max-age=1').send('page');
    });
    const served = await serve(app);
    try {
      const page = await filled(served, rc, '/page');
      const etag = String(page.first.headers.etag);
      let at = page.at;
      await stale(at);
      const matching = await served.get('/page', { 'if-none-match': etag });
      expect(matching.status).toBe(304);
      expect(matching.body.length).toBe(0);
      expect(matching.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=304; stored');
      at = Date.now();
      await rc.settled();
      await stale(at);
      const other = await served.get('/page', { 'if-none-match': '"something-else"' });
      expect(other.status).toBe(200);
      expect(other.text).toBe('page');
      expect(asked).toEqual([undefined, etag, etag]);
    } finally {
      await served.close();
    }
  });
});
