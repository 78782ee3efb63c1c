import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filled, past, rcBackends, withApp } from './response-cache-harness';

// RFC 5861 §4: `stale-if-error=N` lets a stale entry answer when the handler errs.
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('responseCache stale-if-error ($name)', (backend) => {
  it('within the window a 5xx or next(err) is answered with the stale entry (fwd=stale; fwd-status)', async () => {
    let mode: 'ok' | '500' | '503' | 'next' = 'ok';
    let runs = 0;
    await withApp(
      { cache: backend.cache(), ttl: '1m' },
      (app, rc) => {
        app.set('etag', false);
        app.get('/news', rc, (_req, res, next) => {
          runs++;
          if (mode === 'next') return next(new Error('database down'));
          if (mode !== 'ok') return void res.status(Number(mode)).set('X-Error', 'yes').send('failed');
          res.set('Cache-Control', 'max-age=1, stale-if-error=30').send('the news');
        });
      },
      async (served, rc) => {
        const { at } = await filled(served, rc, '/news');
        await past(at, 1100);
        for (const [set, status] of [
          ['500', 500],
          ['503', 503],
          ['next', 500],
        ] as const) {
          mode = set;
          const reply = await served.get('/news');
          expect(reply.status, set).toBe(200);
          expect(reply.text, set).toBe('the news');
          expect(reply.headers['cache-status'], set).toBe(`larder; fwd=stale; fwd-status=${status}`);
          expect(reply.headers['x-cache'], set).toBe('MISS');
          // The error response's own headers (Express's error page: its CSP, its type) are not sent.
          expect(reply.headers['x-error'], set).toBeUndefined();
          expect(reply.headers['content-security-policy'], set).toBeUndefined();
          expect(reply.headers['content-type'], set).toMatch(/^text\/html/);
        }
        expect(runs).toBe(4);
        mode = 'ok';
        const recovered = await served.get('/news');
        expect(recovered.headers['cache-status']).toBe('larder; fwd=stale; stored');
        await rc.settled();
        expect((await served.get('/news')).headers['x-cache']).toBe('HIT');
      },
    );
  });

  it('past the window the error goes through (a revalidation that errs, the entry kept by its ETag)', async () => {
    let failing = false;
    const asked: (string | undefined)[] = [];
    await withApp(
      { cache: backend.cache(), ttl: '1m' },
      (app, rc) => {
        app.get('/feed', rc, (req, res) => {
          asked.push(req.get('if-none-match'));
          if (failing) return void res.status(500).send('failed');
          res.set('Cache-Control', 'max-age=1, stale-if-error=1').send('the feed');
        });
      },
      async (served, rc) => {
        const { first, at } = await filled(served, rc, '/feed');
        failing = true;
        await past(at, 1200);
        const within = await served.get('/feed');
        expect(within.text).toBe('the feed');
        expect(within.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=500');
        await past(at, 2300);
        const outside = await served.get('/feed');
        expect(outside.status).toBe(500);
        expect(outside.text).toBe('failed');
        expect(outside.headers['cache-status']).toBe('larder; fwd=stale; detail=status');
        expect(asked).toEqual([undefined, first.headers.etag, first.headers.etag]);
      },
    );
  });

  it('a request’s own `Cache-Control: stale-if-error=N` allows it; without it the error goes through', async () => {
    let failing = false;
    await withApp(
      { cache: backend.cache(), ttl: '1m' },
      (app, rc) => {
        app.get('/prices', rc, (_req, res) => {
          if (failing) return void res.status(502).send('bad gateway');
          res.set('Cache-Control', 'max-age=1').send('prices');
        });
      },
      async (served, rc) => {
        const { at } = await filled(served, rc, '/prices');
        failing = true;
        await past(at, 1100);
        const plain = await served.get('/prices');
        expect(plain.status).toBe(502);
        const asked = await served.get('/prices', { 'cache-control': 'stale-if-error=60' });
        expect(asked.status).toBe(200);
        expect(asked.text).toBe('prices');
        expect(asked.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=502');
      },
    );
  });

  it('must-revalidate forbids it (RFC 9111 §5.2.2.2)', async () => {
    let failing = false;
    await withApp(
      { cache: backend.cache(), ttl: '1m' },
      (app, rc) => {
        app.get('/strict', rc, (_req, res) => {
          if (failing) return void res.status(500).send('failed');
          res.set('Cache-Control', 'max-age=1, must-revalidate, stale-if-error=60').send('strict');
        });
      },
      async (served, rc) => {
        const { at } = await filled(served, rc, '/strict');
        failing = true;
        await past(at, 1100);
        expect((await served.get('/strict')).status).toBe(500);
      },
    );
  });
});
