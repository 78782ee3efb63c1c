import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';

/** A backend the response-cache tests run on. */
export interface RcBackend {
  name: 'memory' | 'redis';
  /** A fresh cache with a prefix of its own. */
  cache(): Cache;
}

/** The memory driver and a real redis-server (started by `start`, stopped by `stop`). */
export function rcBackends(): {
  backends: RcBackend[];
  redisUrl(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
} {
  let server: RedisServer | undefined;
  const caches: Cache[] = [];
  let n = 0;
  const redisUrl = () => {
    if (!server) throw new Error('redis-server not started');
    return server.url;
  };
  const memory: RcBackend = {
    name: 'memory',
    cache: () => new Cache({ store: createMemoryStore(), prefix: `rc-${++n}:` }),
  };
  const redis: RcBackend = {
    name: 'redis',
    cache: () => {
      const cache = new Cache({
        store: createRedisStore({ url: redisUrl(), commandTimeoutMs: 2000 }),
        prefix: `rc-${process.pid}-${++n}:`,
        timeout: '3s',
      });
      caches.push(cache);
      return cache;
    },
  };
  return {
    backends: [memory, redis],
    redisUrl,
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
  text: string;
}

/** A server on an ephemeral loopback port, and a client that controls every header. */
export interface Served {
  port: number;
  /** Sends one request on a fresh connection (`Host` defaults to `a.example`). */
  request(path: string, options?: { method?: string; headers?: OutgoingHttpHeaders; body?: string }): Promise<Reply>;
  get(path: string, headers?: OutgoingHttpHeaders): Promise<Reply>;
  close(): Promise<void>;
}

/** A client of the server listening on `port`; `close` stops it. */
export function clientOf(port: number, close: () => Promise<void>): Served {
  const request: Served['request'] = (path, options = {}) =>
    new Promise<Reply>((resolve, reject) => {
      const headers: OutgoingHttpHeaders = { host: 'a.example', ...options.headers };
      const req = http.request(
        { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false, setHost: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  return { port, request, get: (path, headers) => request(path, { headers }), close };
}

/** Starts a `node:http` listener on 127.0.0.1. */
export async function serve(listener: RequestListener): Promise<Served> {
  const server = http.createServer(listener);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return clientOf((server.address() as AddressInfo).port, () => closeServer(server));
}

/** Closes a server and its connections. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Serves a Fetch-style handler on `node:http` (the request's URL from its `Host`). */
export function serveFetch(handler: (request: Request) => Promise<Response>): Promise<Served> {
  return serve(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const one of Array.isArray(value) ? value : [value ?? '']) headers.append(name, one);
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers,
      body: hasBody ? Buffer.concat(chunks) : null,
    });
    try {
      const response = await handler(request);
      const out: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') out[name] = value;
      });
      if (response.headers.getSetCookie().length > 0) out['set-cookie'] = response.headers.getSetCookie();
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch {
      res.statusCode = 500;
      res.end('handler failed');
    }
  });
}

/** Resolves once `condition()` is true; rejects after `ms`. Polls every 5 ms. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
