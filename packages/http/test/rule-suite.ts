import type { Cache, Ttl } from '@larder/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends, type Served, until } from './harness';

/** A request as a neutral route sees it. */
export interface RouteRequest {
  method: string;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
}

/** What a route answers. */
export interface RouteAnswer {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

/** A route every binding serves the same way: one method and path, behind the response cache. */
export interface Route {
  method: 'GET' | 'PUT';
  path: string;
  answer(req: RouteRequest): RouteAnswer | Promise<RouteAnswer>;
}

/** An app with the response cache, served on a loopback port by one binding. */
export interface ServedApp {
  served: Served;
  /** Resolves once the cache's writes have settled. */
  settled(): Promise<void>;
}

/** A framework binding under test: serves `routes` behind a response cache on `cache`. */
export interface Binding {
  name: string;
  serve(options: { cache: Cache; ttl: Ttl; lookupBudget: Ttl }, routes: Route[]): Promise<ServedApp>;
}

/** An HTTP date `offsetMs` from now. */
function dateIn(offsetMs: number): string {
  return new Date(Date.now() + offsetMs).toUTCString();
}

/** Requests `path` until it is a HIT. */
async function untilHit(app: ServedApp, path: string, headers?: Record<string, string>) {
  await app.settled();
  let reply = await app.served.get(path, headers);
  const end = Date.now() + 3000;
  while (reply.headers['x-cache'] !== 'HIT') {
    if (Date.now() > end) throw new Error(`${path} never became a HIT (${reply.headers['cache-status']})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    reply = await app.served.get(path, headers);
  }
  return reply;
}

/**
 * The response cache's rules as one table of rows, run on a binding over real HTTP on memory and
 * Redis: every binding must pass the same rows.
 */
export function ruleSuite(binding: Binding): void {
  const env = rcBackends();
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describe.each(env.backends)(`${binding.name}: the response cache rules ($name)`, (backend) => {
    let version = 1;
    let runs: Record<string, number> = {};
    /** When each route last ran (epoch ms). */
    const ranAt: Record<string, number> = {};
    const count = (name: string) => {
      runs[name] = (runs[name] ?? 0) + 1;
      ranAt[name] = Date.now();
    };
    let app: ServedApp;
    const routes: Route[] = [
      {
        method: 'GET',
        path: '/page',
        answer: () => {
          count('page');
          return {
            // The origin's Date, 5 s back: a hit keeps it, and its Age counts those 5 s (RFC 9111 §4.2.3).
            headers: { 'content-type': 'text/plain', date: dateIn(-5_000) },
            body: `page v${version}`,
          };
        },
      },
      // RFC 9111 §4.2.3 apparent age: a Date an hour back, in the future, or invalid.
      ...(
        [
          ['old-date', () => dateIn(-3_600_000)],
          ['future-date', () => dateIn(3_600_000)],
          ['bad-date', () => 'yesterday'],
        ] as const
      ).map(
        ([name, date]): Route => ({
          method: 'GET',
          path: `/${name}`,
          answer: () => {
            count(name);
            return { headers: { 'cache-control': 'max-age=600', date: date() }, body: name };
          },
        }),
      ),
      {
        method: 'PUT',
        path: '/page',
        answer: () => {
          version++;
          return { body: 'saved' };
        },
      },
      {
        method: 'GET',
        path: '/me',
        answer: async (req) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return { headers: { 'cache-control': 'max-age=60' }, body: `me: ${req.headers.authorization}` };
        },
      },
      ...(['no-store', 'private'] as const).map(
        (cc): Route => ({
          method: 'GET',
          path: `/${cc}`,
          answer: () => {
            count(cc);
            return { headers: { 'cache-control': cc }, body: cc };
          },
        }),
      ),
      {
        method: 'GET',
        path: '/lang',
        answer: (req) => {
          count('lang');
          return { headers: { vary: 'Accept-Language' }, body: `hello in ${req.headers['accept-language'] ?? '-'}` };
        },
      },
      {
        method: 'GET',
        path: '/doc',
        answer: (req): RouteAnswer => {
          count('doc');
          if (req.headers['if-none-match'] === '"d1"') return { status: 304, headers: { etag: '"d1"' }, body: '' };
          return { headers: { etag: '"d1"', 'cache-control': 'max-age=1' }, body: 'the document' };
        },
      },
      {
        method: 'GET',
        path: '/bytes',
        answer: () => ({ headers: { 'content-type': 'text/plain' }, body: '0123456789' }),
      },
    ];

    beforeAll(async () => {
      // A budget far above the default 50 ms: a Redis lookup slowed by a loaded CI machine (or its
      // first connection) is not taken for an outage, which answers a MISS by design.
      app = await binding.serve({ cache: backend.cache(), ttl: '1m', lookupBudget: '3s' }, routes);
    });
    afterAll(() => app.served.close());
    beforeAll(() => {
      runs = {};
    });

    it('a GET is stored, then answered from the cache with the origin’s Date and an Age', async () => {
      const first = await app.served.get('/page');
      expect(first.text).toBe(`page v${version}`);
      expect(first.headers['x-cache']).toBe('MISS');
      expect(first.headers['cache-status']).toMatch(/^larder; fwd=uri-miss/);
      const hit = await untilHit(app, '/page');
      expect(hit.text).toBe(first.text);
      expect(hit.headers['cache-status']).toMatch(/^larder; hit; ttl=\d+$/);
      expect(hit.headers.date).toBe(first.headers.date);
      expect(hit.headers.age).toMatch(/^\d+$/);
      // Its Date was 5 s back when it arrived: that apparent age counts (RFC 9111 §4.2.3).
      expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(4);
      expect(runs.page).toBe(1);
    });

    it('a response whose Date is an hour back arrives stale: `max-age=600` is not stored', async () => {
      const first = await app.served.get('/old-date');
      expect(first.headers['cache-status']).toBe('larder; fwd=uri-miss; detail=stale');
      await app.settled();
      expect((await app.served.get('/old-date')).headers['x-cache']).toBe('MISS');
      expect(runs['old-date']).toBe(2);
    });

    it.each(['future-date', 'bad-date'])('a response with a %s counts no apparent age: stored fresh', async (name) => {
      expect((await app.served.get(`/${name}`)).text).toBe(name);
      const hit = await untilHit(app, `/${name}`);
      // Fresh for the suite's `ttl` (one minute) from its arrival: not less, and not an hour more.
      const ttl = Number(/ttl=(\d+)/.exec(String(hit.headers['cache-status']))?.[1]);
      expect(ttl).toBeGreaterThan(50);
      expect(ttl).toBeLessThanOrEqual(60);
      expect(hit.headers.age).toBe('0');
      expect(runs[name]).toBe(1);
    });

    it('an unsafe request invalidates its URI: the next GET sees the write', async () => {
      await untilHit(app, '/page');
      const put = await app.served.request('/page', { method: 'PUT' });
      expect(put.text).toBe('saved');
      const after = await app.served.get('/page');
      expect(after.text).toBe(`page v${version}`);
      expect(after.headers['x-cache']).toBe('MISS');
    });

    it('50 concurrent cold requests with 50 different Authorization headers: each gets its own answer', async () => {
      const users = Array.from({ length: 50 }, (_, i) => `Bearer user-${i}`);
      const replies = await Promise.all(users.map((authorization) => app.served.get('/me', { authorization })));
      expect(replies.map((reply) => reply.text)).toEqual(users.map((authorization) => `me: ${authorization}`));
      await app.settled();
      const again = await Promise.all(users.map((authorization) => app.served.get('/me', { authorization })));
      expect(again.map((reply) => reply.text)).toEqual(users.map((authorization) => `me: ${authorization}`));
    });

    it.each(['no-store', 'private'])('a `Cache-Control: %s` response is not stored', async (cc) => {
      const first = await app.served.get(`/${cc}`);
      expect(first.headers['cache-status']).toBe(`larder; fwd=uri-miss; detail=${cc}`);
      await app.settled();
      expect((await app.served.get(`/${cc}`)).headers['x-cache']).toBe('MISS');
      expect(runs[cc]).toBe(2);
    });

    it('Vary: each variant is its own entry', async () => {
      for (const lang of ['en', 'fr']) {
        expect((await app.served.get('/lang', { 'accept-language': lang })).text).toBe(`hello in ${lang}`);
        const hit = await untilHit(app, '/lang', { 'accept-language': lang });
        expect(hit.text).toBe(`hello in ${lang}`);
      }
      expect(runs.lang).toBe(2);
    });

    it('a Range request is answered 206 from the stored body', async () => {
      await app.served.get('/bytes');
      await untilHit(app, '/bytes');
      const part = await app.served.get('/bytes', { range: 'bytes=2-4' });
      expect(part.status).toBe(206);
      expect(part.text).toBe('234');
      expect(part.headers['content-range']).toBe('bytes 2-4/10');
    });

    it('a URL with an encoded control character bypasses the cache', async () => {
      const reply = await app.served.get('/page?x=%0d%0aX:1');
      expect(reply.headers['cache-status']).toBe('larder; fwd=bypass; detail=uri-control');
    });

    it('a stale entry with an ETag is revalidated: one conditional run, its 304 answered with the stored body', async () => {
      await app.served.get('/doc');
      await untilHit(app, '/doc');
      // Stale 1 s after the route's last run (on a machine that stalled past the entry's 1 s of
      // freshness, the wait for a hit revalidated it once).
      await until(() => Date.now() > (ranAt.doc as number) + 1100, 3000, 'the entry to go stale');
      const before = runs.doc ?? 0;
      const stale = await app.served.get('/doc');
      expect(stale.status).toBe(200);
      expect(stale.text).toBe('the document');
      expect(stale.headers['cache-status']).toBe('larder; fwd=stale; fwd-status=304; stored');
      expect(runs.doc).toBe(before + 1);
      const ask = await app.served.get('/doc', { 'if-none-match': '"d1"' });
      expect(ask.status).toBe(304);
    });
  });
}
