import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cache, type Ttl } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import express, { type Express } from 'express';
import { type ResponseCacheMiddleware, type ResponseCacheOptions, responseCache } from '../src/index';

/** A backend the response-cache tests run on. */
export interface RcBackend {
  name: 'memory' | 'redis';
  /** A fresh cache with a prefix of its own. */
  cache(options?: { onError?: 'throw' | 'miss'; timeout?: Ttl }): Cache;
}

/** The memory driver and a real redis-server (started by `start`, stopped by `stop`). */
export function rcBackends(): {
  backends: RcBackend[];
  redis(): RedisServer;
  start(): Promise<void>;
  stop(): Promise<void>;
} {
  let server: RedisServer | undefined;
  const caches: Cache[] = [];
  let n = 0;
  const memory: RcBackend = {
    name: 'memory',
    cache: (options = {}) => new Cache({ store: createMemoryStore(), prefix: `rc-${++n}:`, ...options }),
  };
  const redis: RcBackend = {
    name: 'redis',
    cache: (options = {}) => {
      if (!server) throw new Error('redis-server not started');
      const cache = new Cache({
        store: createRedisStore({ url: server.url, commandTimeoutMs: 2000 }),
        prefix: `rc-${process.pid}-${++n}:`,
        timeout: '3s',
        ...options,
      });
      caches.push(cache);
      return cache;
    },
  };
  return {
    backends: [memory, redis],
    redis: () => {
      if (!server) throw new Error('redis-server not started');
      return server;
    },
    async start() {
      server = await startRedis();
    },
    async stop() {
      for (const cache of caches) await cache.close().catch(() => {});
      await server?.stop();
    },
  };
}

/** A response as the client saw it. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** A real HTTP server on an ephemeral loopback port, and a client that controls every header. */
export interface Served {
  port: number;
  /** Sends one request (a fresh connection unless `agent` is given; `Host` defaults to `a.example`). */
  request(
    path: string,
    options?: { method?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent },
  ): Promise<Reply>;
  get(path: string, headers?: OutgoingHttpHeaders): Promise<Reply>;
  close(): Promise<void>;
}

/** Starts `app` on 127.0.0.1 (headers up to 256 KiB, so 100 KB URLs reach the app). */
export async function serve(app: RequestListener): Promise<Served> {
  const server = http.createServer({ maxHeaderSize: 256 * 1024 }, app);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  const request: Served['request'] = (path, options = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { host: 'a.example', ...options.headers };
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: options.method ?? 'GET',
          headers,
          agent: options.agent ?? false,
          maxHeaderSize: 256 * 1024,
          // Some tests send a Host the client would otherwise refuse to set as given.
          setHost: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
          });
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  return {
    port,
    request,
    get: (path, headers) => request(path, { headers }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once `condition()` is true; rejects after `ms`. Polls every 5 ms. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Requests `path` until the reply is a HIT (the fill is written after the response is sent). */
export async function untilHit(served: Served, path: string, headers?: OutgoingHttpHeaders, ms = 3000): Promise<Reply> {
  let reply = await served.get(path, headers);
  const end = Date.now() + ms;
  while (reply.headers['x-cache'] !== 'HIT') {
    if (Date.now() > end)
      throw new Error(`${path} never became a HIT (last Cache-Status: ${reply.headers['cache-status']})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    reply = await served.get(path, headers);
  }
  return reply;
}

/**
 * The middleware as the rule tests use it: with a lookup budget far above the default 50 ms, so
 * a Redis lookup slowed by a loaded 2-core CI machine is not taken for an outage (which answers a
 * MISS by design). The outage tests use the default budget.
 */
export function cacheFor(options: ResponseCacheOptions): ResponseCacheMiddleware {
  return responseCache({ lookupBudget: '3s', ...options });
}

/** Resolves `ms` after `at` (a clock condition, no request sent). */
export function past(at: number, ms: number): Promise<void> {
  return until(() => Date.now() > at + ms, ms + 3000, 'the clock');
}

/**
 * An Express app with one `responseCache` (as `cacheFor` makes it), its routes added by `routes`,
 * served on loopback for `run`, and closed after it, whatever `run` does.
 */
export async function withApp(
  options: ResponseCacheOptions,
  routes: (app: Express, rc: ResponseCacheMiddleware) => void,
  run: (served: Served, rc: ResponseCacheMiddleware) => Promise<void>,
): Promise<void> {
  const rc = cacheFor(options);
  const app = express();
  routes(app, rc);
  const served = await serve(app);
  try {
    await run(served, rc);
  } finally {
    await served.close();
  }
}

/**
 * Fills the cache with `path`: the first GET, its store write settled (so that no request of
 * `untilHit` runs the handler a second time), then a HIT. Resolves the first reply and the time
 * it came back (the entry's freshness counts from then).
 */
export async function filled(
  served: Served,
  rc: ResponseCacheMiddleware,
  path: string,
): Promise<{ first: Reply; at: number }> {
  const first = await served.get(path);
  const at = Date.now();
  await rc.settled();
  await untilHit(served, path);
  return { first, at };
}
