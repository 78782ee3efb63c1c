/**
 * Response caches: the same Express 5 app (a JSON route whose handler builds ~2 KB of JSON after
 * 1 ms of simulated I/O) without a cache, with larder's `responseCache` (memory store; Redis
 * store), and with apicache 1.6 used as its README shows (`apicache.middleware('5 minutes')`,
 * `appendKey` for the varying route). Each app runs in a child process of its own (this file,
 * started with LARDER_BENCH_RC_SERVER=1 and the subject in LARDER_BENCH_RC_SUBJECT); the load
 * generator keeps 50 keep-alive connections and records each request's latency (the p99 column).
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { serveIfChild } from '../rc-app';
import {
  benchStore,
  buildBody,
  checkRevalidated,
  FLOOR,
  floorBodies,
  io,
  type Pool,
  REQUESTS,
  rcScenario,
} from '../rc-harness';

// biome-ignore lint/suspicious/noExplicitAny: express and apicache are loaded untyped
type Loose = any;
const SUBJECTS = ['no cache', 'larder (memory)', 'larder (redis)', 'apicache', FLOOR] as const;
type Subject = (typeof SUBJECTS)[number];

// ---------------------------------------------------------------------------------------------
// Server side (child process).

async function serve(subject: string): Promise<Server> {
  const express = (await import('express' as string)).default as Loose;
  const app = express();
  app.disable('x-powered-by');
  let cached: Loose = (_req: Loose, _res: Loose, next: () => void) => next();
  let cachedVarying = cached;
  if (subject.startsWith('larder')) {
    const { Cache } = await import('@larder/core');
    const { responseCache } = await import('@larder/express');
    cached = responseCache({ cache: new Cache({ store: await benchStore(subject), prefix: 'bench-rc:' }), ttl: '5m' });
    cachedVarying = cached;
  } else if (subject === 'apicache') {
    const apicache = (await import('apicache' as string)).default as Loose;
    cached = apicache.newInstance().middleware('5 minutes');
    // apicache keys on the URL only; its README's way to key on a request header is appendKey.
    cachedVarying = apicache
      .newInstance({ appendKey: (req: Loose) => req.headers['accept-language'] })
      .middleware('5 minutes');
  }
  let revalidating = cached;
  if (subject === FLOOR) {
    const body = floorBodies();
    /** Answers with the URL's prebuilt body in `lang`, as a hit. */
    const send = (req: Loose, res: Loose, lang: string) => {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('X-Cache', 'HIT');
      res.end(body(req.originalUrl, req.params.id, lang));
    };
    cached = (req: Loose, res: Loose) => send(req, res, req.headers['accept-language'] ?? 'en');
    cachedVarying = cached;
    // The floor's revalidation: the handler's own steps up to its decision (the 1 ms of I/O, the
    // ETag, Express's req.fresh against the validator a cache would send), then the prebuilt body
    // as a 200: no interception, no refresh, no store. The least a revalidated hit can cost here.
    revalidating = async (req: Loose, res: Loose) => {
      req.headers['if-none-match'] = `"${req.params.id}-v1"`;
      await io();
      res.set('ETag', `"${req.params.id}-v1"`);
      if (!req.fresh) throw new Error('floor: the validator does not match');
      send(req, res, 'en');
    };
  }
  app.get('/item/:id', cached, async (req: Loose, res: Loose) => {
    await io();
    res.json(buildBody(req.params.id, 'en'));
  });
  // Always revalidated once stale: a 200 fresh for 1 s with an ETag, then 304s that keep it stale
  // (`max-age=0`); Express's req.fresh answers them without building the body.
  app.get('/etag/:id', revalidating, async (req: Loose, res: Loose) => {
    await io();
    res.set('ETag', `"${req.params.id}-v1"`);
    if (req.fresh) return void res.set('Cache-Control', 'max-age=0').status(304).end();
    res.set('Cache-Control', 'max-age=1').json(buildBody(req.params.id, 'en'));
  });
  app.get('/lang/:id', cachedVarying, async (req: Loose, res: Loose) => {
    await io();
    res.vary('Accept-Language').json(buildBody(req.params.id, req.get('accept-language') ?? 'en'));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

serveIfChild(serve);

// ---------------------------------------------------------------------------------------------
// Load side (the bench process).

/** The subjects that revalidate (apicache keeps the 200 for its 5 minutes; the floor runs the handler's steps and sends its prebuilt body). */
const REVALIDATING: readonly Subject[] = ['no cache', 'larder (memory)', 'larder (redis)', FLOOR];

/** Checks that a cache answers the hit routes from its cache, so the rows measure what they say. */
async function checkHits(subject: Subject, pool: Pool): Promise<void> {
  if (subject === 'no cache') return;
  for (const [path, headers] of [REQUESTS.hit?.(0), REQUESTS['varied hit']?.(1)] as [string, string][]) {
    const head = await pool.get(path, headers);
    const hit = subject === 'apicache' ? /apicache-store:/i.test(head) : /x-cache: HIT/i.test(head);
    if (!hit) throw new Error(`${subject}: ${path} (${headers.trim()}) is not a hit after warming:\n${head}`);
  }
  if (subject.startsWith('larder')) await checkRevalidated(subject, pool);
}

export const scenario = rcScenario({
  name: 'response-cache',
  description:
    'Express 5, a JSON route (~2 KB, 1 ms of simulated I/O), 50 keep-alive connections: no cache vs larder responseCache ' +
    '(memory store; Redis store) vs apicache 1.6.3 (memory). Each app in a child process of its own.',
  file: fileURLToPath(import.meta.url),
  subjects: SUBJECTS,
  check: checkHits,
  // The floor only answers hits: a miss row of it would measure nothing a cache does.
  skip: (op, subject) =>
    (subject === FLOOR && op === 'miss') ||
    (op === 'revalidated hit' && !REVALIDATING.includes(subject)) ||
    (op === 'conditional request' && subject !== 'no cache'),
  targets: [
    { op: 'hit', subject: 'larder (memory)', over: 'apicache', atLeast: 1 },
    { op: 'revalidated hit', subject: 'larder (memory)', over: 'no cache', atLeast: 1 },
  ],
  notes: [
    'hit: GET /item/1; hit, 4,000 URLs: GET /item/0 … /item/3999 in turn (more URLs than larder keeps decoded per process: its key hash, head decode and body read each time); miss: a new URL every request (lookup, handler, store); varied hit: GET /lang/1 with one of four Accept-Language values (`Vary: Accept-Language`; apicache keys on it with `appendKey`, its README way)',
    'revalidated hit: GET /etag/1, an entry with an ETag kept stale (the 200 said max-age=1, each 304 says max-age=0): the handler runs with If-None-Match, Express answers 304 from req.fresh without building the JSON, and the stored body answers (Cache-Status fwd=stale; fwd-status=304); no cache: the same handler building the 200 every time; the issue asks its app CPU per request to be at most half of a miss',
    "conditional request (no cache only): GET /etag/1 with the If-None-Match the handler matches, so it answers 304 without building the body: the handler's share of a revalidated hit, a floor under that row",
    `${FLOOR}: the same app with the cache replaced by a Map of prebuilt JSON bodies (no key hashing, no rules, no store): the least a hit costs here; its revalidated hit runs the handler's steps up to its 304 decision (the I/O, the ETag, req.fresh) and then sends the prebuilt body as a 200: the least a revalidated hit costs here`,
    'larder answers every request with X-Cache and Cache-Status, and applies the RFC 9111 rules of a shared cache (see packages/express/README.md); apicache keys on the URL (+ appendKey) only',
  ],
});
