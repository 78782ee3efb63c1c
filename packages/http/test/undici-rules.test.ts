import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends, type Served, serve, until } from './harness';
import { cachingAgent, fetchVia, waitStored } from './undici-client';

// The rule suite's rows (rule-suite.ts) for outbound fetch: undici's cache interceptor
// (`type: 'shared'`, `cacheByDefault` one minute, as the suite's `ttl: '1m'`) on undiciCacheStore,
// on memory and a real redis-server, fetching from a loopback origin that serves each row's
// responses. undici applies its own RFC 9111 rules and sends no Cache-Status, so a hit is shown by
// the origin's request count, never by larder's `X-Cache`/`Cache-Status`. Each row keeps the
// suite's name; where undici's rules differ from a server-side cache's, the row says how and why.

/** The suite's row names, read from its source: a row added there fails the last test here until it is run here too. */
function suiteRows(): string[] {
  const source = readFileSync(new URL('./rule-suite.ts', import.meta.url), 'utf8');
  return [...source.matchAll(/\bit(?:\.each\([^)]*\))?\(\s*'([^']+)'/g)].map((match) => match[1] as string);
}

const ran: string[] = [];
/** A row of the suite, run here under its name. */
function row(name: string, body: () => Promise<void>, timeout?: number) {
  ran.push(name);
  it(name, body, timeout);
}

const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)(
  'undici cache interceptor on undiciCacheStore: the response cache rules ($name)',
  (backend) => {
    let version = 1;
    const runs: Record<string, number> = {};
    /** When the origin last answered each path (epoch ms). */
    const answeredAt: Record<string, number> = {};
    let origin: Served;
    let client: Dispatcher;
    const url = (path: string) => `http://127.0.0.1:${origin.port}${path}`;
    const get = (path: string, headers?: Record<string, string>) => fetchVia(client, url(path), { headers });
    /** Waits for the store's write of `path`, then asks again: the origin is not asked. */
    const untilHit = async (path: string, headers?: Record<string, string>) => {
      await waitStored(client, url(path), headers);
      return get(path, headers);
    };

    beforeAll(async () => {
      // The suite's routes, served by a plain origin (no larder on it).
      origin = await serve(async (req, res) => {
        const path = req.url?.split('?')[0] ?? '';
        const name = path.slice(1);
        if (req.method === 'PUT') {
          version++;
          return void res.end('saved');
        }
        runs[name] = (runs[name] ?? 0) + 1;
        answeredAt[name] = Date.now();
        if (path === '/page') {
          // The suite's /page: the origin's Date 5 s back (its age counts, RFC 9111 4.2.3).
          res.setHeader('date', new Date(Date.now() - 5_000).toUTCString());
          res.setHeader('content-type', 'text/plain');
          return void res.end(`page v${version}`);
        }
        if (path === '/me') {
          await new Promise((resolve) => setTimeout(resolve, 20));
          res.setHeader('cache-control', 'max-age=60');
          return void res.end(`me: ${req.headers.authorization}`);
        }
        if (path === '/no-store' || path === '/private') {
          res.setHeader('cache-control', name);
          return void res.end(name);
        }
        if (path === '/lang') {
          res.setHeader('vary', 'Accept-Language');
          return void res.end(`hello in ${req.headers['accept-language'] ?? '-'}`);
        }
        if (path === '/doc') {
          res.setHeader('etag', '"d1"');
          if (req.headers['if-none-match'] === '"d1"') {
            res.statusCode = 304;
            return void res.end();
          }
          res.setHeader('cache-control', 'max-age=1');
          return void res.end('the document');
        }
        if (path === '/bytes') return void res.end('0123456789');
        const dates: Record<string, () => string> = {
          '/old-date': () => new Date(Date.now() - 3_600_000).toUTCString(),
          '/future-date': () => new Date(Date.now() + 3_600_000).toUTCString(),
          '/bad-date': () => 'yesterday',
        };
        const date = dates[path];
        if (date) {
          res.setHeader('cache-control', 'max-age=600');
          res.setHeader('date', date());
          return void res.end(name);
        }
        res.statusCode = 404;
        res.end();
      });
      client = cachingAgent(backend.cache(), { cacheByDefault: 60_000 });
    });
    afterAll(async () => {
      await client.close();
      await origin.close();
    });

    row('a GET is stored, then answered from the cache with the origin’s Date and an Age', async () => {
      const first = await get('/page');
      expect(first.text).toBe(`page v${version}`);
      expect(runs.page).toBe(1);
      const hit = await untilHit('/page');
      expect(hit.text).toBe(first.text);
      expect(hit.headers.date).toBe(first.headers.date);
      expect(hit.headers.age).toMatch(/^\d+$/);
      expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(4);
      expect(runs.page).toBe(1);
    });

    row('an unsafe request invalidates its URI: the next GET sees the write', async () => {
      await untilHit('/page');
      const before = runs.page ?? 0;
      const put = await fetchVia(client, url('/page'), { method: 'PUT', body: 'x' });
      expect(put.text).toBe('saved');
      const after = await get('/page');
      expect(after.text).toBe(`page v${version}`);
      expect(runs.page).toBe(before + 1);
    });

    // A shared cache stores no response to a request with Authorization unless the response allows
    // it (public, s-maxage, must-revalidate: RFC 9111 3.5); /me's `max-age=60` does not, so every
    // request reaches the origin: no user can get another's answer.
    row('50 concurrent cold requests with 50 different Authorization headers: each gets its own answer', async () => {
      const users = Array.from({ length: 50 }, (_, i) => `Bearer user-${i}`);
      const ask = () => Promise.all(users.map((authorization) => get('/me', { authorization })));
      expect((await ask()).map((reply) => reply.text)).toEqual(users.map((authorization) => `me: ${authorization}`));
      expect((await ask()).map((reply) => reply.text)).toEqual(users.map((authorization) => `me: ${authorization}`));
      expect(runs.me).toBe(100);
    });

    // undici sends no Cache-Status, so the suite's `detail=no-store|private` is not asserted: the
    // second request reaching the origin is.
    it.each(['no-store', 'private'])('a `Cache-Control: %s` response is not stored', async (cc) => {
      expect((await get(`/${cc}`)).text).toBe(cc);
      expect((await get(`/${cc}`)).text).toBe(cc);
      expect(runs[cc]).toBe(2);
    });
    ran.push('a `Cache-Control: %s` response is not stored');

    row('Vary: each variant is its own entry', async () => {
      for (const lang of ['en', 'fr']) {
        expect((await get('/lang', { 'accept-language': lang })).text).toBe(`hello in ${lang}`);
        expect((await untilHit('/lang', { 'accept-language': lang })).text).toBe(`hello in ${lang}`);
      }
      expect((await get('/lang', { 'accept-language': 'en' })).text).toBe('hello in en');
      expect(runs.lang).toBe(2);
    });

    // undici's interceptor builds no partial responses: a Range request is answered with the stored
    // full 200 (a cache may ignore Range, RFC 9110 14.2), the origin not asked. The store cannot
    // change that; what it must do — hand back the whole stored body — is asserted.
    row('a Range request is answered 206 from the stored body', async () => {
      await get('/bytes');
      await untilHit('/bytes');
      const part = await get('/bytes', { range: 'bytes=2-4' });
      expect(part.status).toBe(200);
      expect(part.text).toBe('0123456789');
      expect(runs.bytes).toBe(1);
    });

    // larder's server-side cache bypasses such URLs because their text would reach its keys, tags
    // and headers; undici's key is its own structure and the store hashes origin and path, so the URL
    // is cached like any other. What must hold is that it is not taken for `/page`: it reaches the origin.
    row('a URL with an encoded control character bypasses the cache', async () => {
      await untilHit('/page');
      const before = runs.page ?? 0;
      const reply = await get('/page?x=%0d%0aX:1');
      expect(reply.text).toBe(`page v${version}`);
      expect(runs.page).toBe(before + 1);
    });

    // undici counts the apparent age itself (RFC 9111 4.2.3), before the store sees the response.
    row('a response whose Date is an hour back arrives stale: `max-age=600` is not stored', async () => {
      expect((await get('/old-date')).text).toBe('old-date');
      expect((await get('/old-date')).text).toBe('old-date');
      expect(runs['old-date']).toBe(2);
    });

    // undici too counts no age for a future Date, and stores a response whose Date it cannot parse
    // as one without a Date (its parser answers nothing for 'yesterday').
    it.each(['future-date', 'bad-date'])('a response with a %s counts no apparent age: stored fresh', async (name) => {
      expect((await get(`/${name}`)).text).toBe(name);
      expect((await untilHit(`/${name}`)).text).toBe(name);
      expect(runs[name]).toBe(1);
    });
    ran.push('a response with a %s counts no apparent age: stored fresh');

    row(
      'a stale entry with an ETag is revalidated: one conditional run, its 304 answered with the stored body',
      async () => {
        await get('/doc');
        // Stored (stale already, on a machine that stalled past its 1 s of freshness, counts too).
        await waitStored(client, url('/doc'), {}, 'only-if-cached, max-stale=60');
        // Stale 1 s after the origin's last answer (a revalidation by a stalled wait refreshed it).
        await until(() => Date.now() > (answeredAt.doc as number) + 1100, 3000, 'the entry to go stale');
        const before = runs.doc ?? 0;
        const stale = await get('/doc');
        expect(stale.status).toBe(200);
        expect(stale.text).toBe('the document');
        expect(runs.doc).toBe(before + 1);
        // The suite's server-side cache answers a client's own conditional 304; undici does not
        // evaluate the client's validators: it forwards them (one more conditional run) and answers
        // the origin's 304 with the stored full 200, which is a valid answer to a conditional request
        // (RFC 9110 13.2.2). The store's part — the stored body, still there — is asserted.
        const ask = await get('/doc', { 'if-none-match': '"d1"' });
        expect(ask.status).toBe(200);
        expect(ask.text).toBe('the document');
        expect(runs.doc).toBe(before + 2);
      },
    );
  },
);

it('every row of the rule suite is run here', () => {
  expect(new Set(ran)).toEqual(new Set(suiteRows()));
});
