/**
 * Response caches on Hono (@hono/node-server): the Express scenario's routes and load
 * (rc-harness.ts) on a Hono app without a cache, with @larder/hono's `responseCache` (memory
 * store; Redis store), with `hono/cache` over @larder/hono's `cacheStorage` (memory store), and
 * the floor (the route answering from a Map of prebuilt bodies). No peer row: on Node, hono/cache
 * turns itself off without a `caches` global, and no other response cache for Hono was found on npm.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Context, MiddlewareHandler } from 'hono';
import { serveIfChild } from '../rc-app';
import { benchStore, buildBody, checkCached, FLOOR, floorBodies, io, rcScenario } from '../rc-harness';

const HONO_CACHE = 'hono/cache over larder cacheStorage (memory)';
const SUBJECTS = ['no cache', 'larder (memory)', 'larder (redis)', HONO_CACHE, FLOOR] as const;

// ---------------------------------------------------------------------------------------------
// Server side (child process).

async function serve(subject: string): Promise<Server> {
  const { Hono } = await import('hono');
  const { serve: listen } = await import('@hono/node-server');
  const app = new Hono();
  let cached: MiddlewareHandler = (_c, next) => next();
  let cachedVarying = cached;
  if (subject.startsWith('larder') || subject === HONO_CACHE) {
    const { Cache } = await import('@larder/core');
    const { cacheStorage, responseCache } = await import('@larder/hono');
    const cache = new Cache({ store: await benchStore(subject), prefix: 'bench-rc:' });
    if (subject === HONO_CACHE) {
      // hono/cache looks for `caches` when its middleware is made: set it first.
      (globalThis as { caches?: unknown }).caches = cacheStorage(cache);
      const { cache: honoCache } = await import('hono/cache');
      // `wait: true`: without it hono/cache hands its write to executionCtx.waitUntil, which Node's adapter lacks.
      cached = honoCache({ cacheName: 'bench', wait: true });
      cachedVarying = honoCache({ cacheName: 'bench', wait: true, vary: ['Accept-Language'] });
    } else {
      cached = responseCache({ cache, ttl: '5m' });
      cachedVarying = cached;
    }
  } else if (subject === FLOOR) {
    const body = floorBodies();
    cached = async (c: Context) => {
      // A Buffer of Buffer.from(string): its memory is an ArrayBuffer, never shared.
      const bytes = body(c.req.path, c.req.param('id') as string, c.req.header('accept-language') ?? 'en');
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/json; charset=utf-8',
        'x-cache': 'HIT',
      });
    };
    cachedVarying = cached;
  }
  let runs = 0;
  app.get('/runs', (c) => c.text(String(runs)));
  app.get('/item/:id', cached, async (c) => {
    runs++;
    await io();
    return c.json(buildBody(c.req.param('id'), 'en'));
  });
  // Always revalidated once stale, as on Express: a 200 fresh for 1 s with an ETag, then 304s.
  app.get('/etag/:id', cached, async (c) => {
    runs++;
    await io();
    const etag = `"${c.req.param('id')}-v1"`;
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag, 'cache-control': 'max-age=0' });
    return c.json(buildBody(c.req.param('id'), 'en'), 200, { etag, 'cache-control': 'max-age=1' });
  });
  app.get('/lang/:id', cachedVarying, async (c) => {
    runs++;
    await io();
    c.header('vary', 'Accept-Language');
    return c.json(buildBody(c.req.param('id'), c.req.header('accept-language') ?? 'en'));
  });
  const server = listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

serveIfChild(serve);

// ---------------------------------------------------------------------------------------------
// Load side (the bench process).

export const scenario = rcScenario({
  name: 'response-cache-hono',
  description:
    'Hono on @hono/node-server, the response-cache routes (~2 KB JSON, 1 ms of simulated I/O), 50 keep-alive connections: no cache vs ' +
    '@larder/hono responseCache (memory store; Redis store) vs hono/cache over @larder/hono cacheStorage (memory). Each app in a child process of its own.',
  file: fileURLToPath(import.meta.url),
  subjects: SUBJECTS,
  check: (subject, pool) => checkCached(subject, pool, ['hit', 'varied hit']),
  skip: (op, subject) =>
    (subject === FLOOR && op === 'miss') ||
    op === 'conditional request' || // the Express scenario's floor row
    // hono/cache has no revalidation: it keeps the 200 until its max-age, then runs the handler unconditionally.
    (op === 'revalidated hit' && (subject === HONO_CACHE || subject === FLOOR)),
  notes: [
    'the requests of `pnpm bench response-cache` (hit, hit over 4,000 URLs, miss, varied hit, revalidated hit), on the same routes written for Hono (`c.json`)',
    'larder: `responseCache({ cache, ttl: "5m" })` as route middleware; hono/cache: `cache({ cacheName, wait: true })` (with `vary: ["Accept-Language"]` on the varying route) over `globalThis.caches = cacheStorage(cache)`',
    'no peer row: hono/cache needs a `caches` global that Node lacks (without one it turns itself off), and no other response cache for Hono on Node was found on npm; hono/cache over larder’s cacheStorage is its row here',
    `${FLOOR}: the same app with the cache middleware answering from a Map of prebuilt JSON bodies (no key hashing, no rules, no store): the least a hit costs in Hono`,
  ],
});
