import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, serve, untilHit } from './response-cache-harness';

// Issue 40, defect 2: a status that is not heuristically cacheable (RFC 9110 §15.1) is stored only
// with explicit freshness (`max-age`, `s-maxage`, `Expires`) or `public` (RFC 9111 §3, §4.2.2).
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('responseCache: statuses without heuristic freshness ($name)', (backend) => {
  it('a bare 302 (or 307) listed in `statuses` is not stored; with max-age, s-maxage, Expires or public it is', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '60s', statuses: [200, 302, 307] });
    const runs = new Map<string, number>();
    const app = express();
    const route = (path: string, answer: (res: express.Response) => void) =>
      app.get(path, rc, (_req, res) => {
        runs.set(path, (runs.get(path) ?? 0) + 1);
        answer(res);
      });
    route('/bare', (res) => res.redirect(302, '/target'));
    route('/bare-307', (res) => res.redirect(307, '/target'));
    route('/max-age', (res) => res.set('Cache-Control', 'max-age=30').redirect(302, '/target'));
    route('/s-maxage', (res) => res.set('Cache-Control', 's-maxage=30').redirect(302, '/target'));
    route('/expires', (res) =>
      res.set('Expires', new Date(Date.now() + 30_000).toUTCString()).redirect(302, '/target'),
    );
    route('/public', (res) => res.set('Cache-Control', 'public').redirect(302, '/target'));
    const served = await serve(app);
    try {
      for (const path of ['/bare', '/bare-307']) {
        const first = await served.get(path);
        expect(first.headers.location).toBe('/target');
        expect(first.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=no-freshness');
        await rc.settled();
        const second = await served.get(path);
        expect(second.headers['x-cache']).toBe('MISS');
        expect(runs.get(path)).toBe(2);
      }
      for (const path of ['/max-age', '/s-maxage', '/expires', '/public']) {
        const first = await served.get(path);
        expect(first.headers['cache-status'], path).toBe('larder; fwd=uri-miss; stored');
        // The first response's store write settles before the reads: none of them runs the handler again.
        await rc.settled();
        const hit = await untilHit(served, path);
        expect(hit.status).toBe(302);
        expect(hit.headers.location).toBe('/target');
        const ttl = Number(/ttl=(\d+)/.exec(String(hit.headers['cache-status']))?.[1]);
        // Explicit freshness (30 s) caps the ttl; `public` alone allows the heuristic one (the `ttl` option).
        expect(ttl, path).toBeGreaterThan(path === '/public' ? 30 : 25);
        expect(ttl, path).toBeLessThanOrEqual(path === '/public' ? 60 : 30);
        expect(runs.get(path)).toBe(1);
      }
    } finally {
      await served.close();
    }
  });

  it('heuristically cacheable statuses listed in `statuses` (404, 301, 410) are stored without freshness information', async () => {
    const rc = cacheFor({ cache: backend.cache(), ttl: '60s', statuses: [200, 301, 404, 410] });
    const app = express();
    app.get('/missing', rc, (_req, res) => {
      res.status(404).send('not here');
    });
    app.get('/moved', rc, (_req, res) => {
      res.redirect(301, '/elsewhere');
    });
    app.get('/gone', rc, (_req, res) => {
      res.status(410).send('gone');
    });
    const served = await serve(app);
    try {
      for (const [path, status] of [
        ['/missing', 404],
        ['/moved', 301],
        ['/gone', 410],
      ] as const) {
        expect((await served.get(path)).headers['cache-status']).toBe('larder; fwd=uri-miss; stored');
        expect((await untilHit(served, path)).status).toBe(status);
      }
    } finally {
      await served.close();
    }
  });
});
