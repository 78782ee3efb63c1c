/**
 * Response caches on Fastify 5: the Express scenario's routes and load (rc-harness.ts) on a Fastify
 * app without a cache, with @larder/fastify (the `larder` plugin and `responseCache`; memory store;
 * Redis store), with fastify-lcache 2.1 (the only response cache for Fastify on npm that answers
 * hits from its cache: @fastify/caching only answers 304 to an If-None-Match it stored), and the
 * floor (the handler answering from a Map of prebuilt bodies). Each app in a child process.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serveIfChild } from '../rc-app';
import { benchStore, buildBody, checkCached, FLOOR, floorBodies, io, rcScenario } from '../rc-harness';

const LCACHE = 'fastify-lcache';
const SUBJECTS = ['no cache', 'larder (memory)', 'larder (redis)', LCACHE, FLOOR] as const;
type Req = FastifyRequest<{ Params: { id: string } }>;

// ---------------------------------------------------------------------------------------------
// Server side (child process).

async function serve(subject: string): Promise<Server> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  let runs = 0;
  app.get('/runs', async () => String(runs));
  const floor = floorBodies();
  const routes = async (api: FastifyInstance) => {
    if (subject === FLOOR) {
      const answer = (request: Req, reply: FastifyReply) => {
        const lang = request.headers['accept-language'] ?? 'en';
        reply.header('content-type', 'application/json; charset=utf-8').header('x-cache', 'HIT');
        reply.send(floor(request.url, request.params.id, lang));
      };
      for (const path of ['/item/:id', '/etag/:id', '/lang/:id']) api.get(path, answer);
      return;
    }
    api.get('/item/:id', async (request: Req) => {
      runs++;
      await io();
      return buildBody(request.params.id, 'en');
    });
    // Always revalidated once stale, as on Express: a 200 fresh for 1 s with an ETag, then 304s.
    api.get('/etag/:id', async (request: Req, reply) => {
      runs++;
      await io();
      const etag = `"${request.params.id}-v1"`;
      reply.header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.header('cache-control', 'max-age=0').code(304).send();
      reply.header('cache-control', 'max-age=1');
      return buildBody(request.params.id, 'en');
    });
    api.get('/lang/:id', async (request: Req, reply) => {
      runs++;
      await io();
      reply.header('vary', 'Accept-Language');
      return buildBody(request.params.id, request.headers['accept-language'] ?? 'en');
    });
  };
  if (subject.startsWith('larder')) {
    const { createCacheManager } = await import('@larder/core');
    const { larder, responseCache } = await import('@larder/fastify');
    const store = await benchStore(subject);
    await app.register(larder, {
      caches: createCacheManager({ stores: { bench: store }, default: 'bench', prefix: 'bench-rc:' }),
    });
    await app.register(async (api) => {
      await api.register(responseCache, { cache: app.cache, ttl: '5m' });
      await routes(api);
    });
  } else if (subject === LCACHE) {
    const { default: lcache } = await import('fastify-lcache');
    // Its README's way; it wraps every route of the app, so /runs is excluded.
    await app.register(lcache, { ttlInMinutes: 5, excludeRoutes: ['/runs'] });
    await routes(app);
  } else {
    await routes(app);
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

serveIfChild(serve);

// ---------------------------------------------------------------------------------------------
// Load side (the bench process).

export const scenario = rcScenario({
  name: 'response-cache-fastify',
  description:
    'Fastify 5, the response-cache routes (~2 KB JSON, 1 ms of simulated I/O), 50 keep-alive connections: no cache vs ' +
    '@larder/fastify responseCache (memory store; Redis store) vs fastify-lcache 2.1.5. Each app in a child process of its own.',
  file: fileURLToPath(import.meta.url),
  subjects: SUBJECTS,
  check: (subject, pool) => checkCached(subject, pool, subject === LCACHE ? ['hit'] : ['hit', 'varied hit']),
  skip: (op, subject) =>
    (subject === FLOOR && op === 'miss') ||
    op === 'conditional request' || // the Express scenario's floor row
    // fastify-lcache keys on the URL alone (it would answer every language with the first one's body).
    (subject === LCACHE && op === 'varied hit') ||
    (op === 'revalidated hit' && (subject === LCACHE || subject === FLOOR)),
  notes: [
    'the requests of `pnpm bench response-cache` (hit, hit over 4,000 URLs, miss, varied hit, revalidated hit), on the same routes written for Fastify (handlers return the object; Fastify serializes it)',
    'larder: `app.register(larder, { caches })`, then `responseCache` registered in the routes’ context (`{ cache: app.cache, ttl: "5m" }`): a hit is written on the raw response from an onRequest hook',
    'fastify-lcache 2.1.5 (`{ ttlInMinutes: 5 }`): an in-memory Map by URL, replayed from its onRequest hook; no varied-hit row (it keys on the URL alone) and no revalidation',
    '@fastify/caching 9 (the official plugin) has no row: it never answers a body from its cache, only a 304 to an If-None-Match whose ETag it stored, so it has no hit to measure',
    `${FLOOR}: the same app with each route's handler answering from a Map of prebuilt JSON bodies (no key hashing, no rules, no store): the least a hit costs in Fastify`,
  ],
});
