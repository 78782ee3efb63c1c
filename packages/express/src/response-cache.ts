import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ConfigError, parseTtl } from '@larder/core';
import type { CacheLike, KeyRequest, ResponseCacheOptions } from './options';

/** A connect/Express middleware. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** The middleware, with a helper to drop a URL's cached responses. */
export interface ResponseCacheMiddleware extends Middleware {
  /** Forgets every cached response of `url` (all its `Vary` variants). Returns true if something was cached. */
  invalidate(url: string): Promise<boolean>;
}

/** A cached response. `t: 'r'`. */
interface StoredResponse {
  t: 'r';
  /** Status code. */
  s: number;
  /** Headers as Node gives them (lower-case names). */
  h: OutgoingHttpHeaders;
  /** Body, base64. */
  b: string;
  /** When it was stored (epoch ms), for `Age`. */
  at: number;
}

/**
 * The entry at the base key when the response varies on request headers: the header names and a
 * generation id. Variants live under `base + generation + hash(values)`, so replacing the index
 * (after `invalidate`) orphans old variants instead of reviving them.
 */
interface VaryIndex {
  t: 'v';
  v: string[];
  g: string;
}

type Entry = StoredResponse | VaryIndex;

/** What a finished leader response gives to the requests waiting on it. */
interface Flight {
  done: Promise<{ vary: string[]; values: string; response: StoredResponse } | undefined>;
}

// Hop-by-hop and per-response headers that must not be replayed from the cache.
const NOT_STORED = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'date',
  'set-cookie',
  'x-cache',
  'age',
  'cache-status',
]);
const MAX_KEY_CHARS = 200;

/**
 * RFC 9211 `Cache-Status` (a structured-field list; larder's entry is the item `larder`): `hit`
 * with `ttl` (seconds of freshness left), or `fwd` (why the handler ran: `uri-miss`, `vary-miss`,
 * `request` when the request said `no-store`) with `stored` when the response was kept and
 * `collapsed` when it was shared with concurrent requests.
 */
export function cacheStatus(params: {
  hit?: boolean;
  ttl?: number;
  fwd?: string;
  stored?: boolean;
  collapsed?: boolean;
}): string {
  let value = 'larder';
  if (params.hit) value += '; hit';
  if (params.fwd !== undefined) value += `; fwd=${params.fwd}`;
  if (params.ttl !== undefined) value += `; ttl=${Math.floor(params.ttl)}`;
  if (params.stored) value += '; stored';
  if (params.collapsed) value += '; collapsed';
  return value;
}

/**
 * Caches GET/HEAD responses (status, headers, body) keyed by URL, `Vary`-aware, with
 * `X-Cache: HIT|MISS` and `Cache-Status` (RFC 9211, see `cacheStatus`). Never caches a request or response with `Cache-Control: no-store`, a
 * `private`/`no-cache` response, or a response that sets cookies. A burst of requests for a cold
 * URL runs the handler once in this process; the others get its response.
 */
export function responseCache(options: ResponseCacheOptions): ResponseCacheMiddleware {
  if (!options || typeof options.cache?.get !== 'function') {
    throw new ConfigError('responseCache needs { cache }: a Cache from @larder/core', 'cache');
  }
  const ttlMs = parseTtl(options.ttl);
  const prefix = options.prefix ?? 'rc';
  const entries = options.cache.namespace(prefix);
  const keyOf = options.key ?? defaultKey;
  const methods = new Set((options.methods ?? ['GET', 'HEAD']).map((m) => m.toUpperCase()));
  const statuses = new Set(options.statuses ?? [200]);
  const requestVary = (options.vary ?? []).map((h) => h.toLowerCase());
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const flights = new Map<string, Flight>();

  const middleware = ((req, res, next) => {
    const method = (req.method ?? 'GET').toUpperCase();
    if (!methods.has(method)) return next();
    res.setHeader('X-Cache', 'MISS');
    if (hasDirective(req.headers['cache-control'], 'no-store')) {
      res.setHeader('Cache-Status', cacheStatus({ fwd: 'request' }));
      return next();
    }
    const base = baseKey(keyOf(req as KeyRequest), requestVary, req);
    serve(req, res, next, method, base).catch(next);
  }) as ResponseCacheMiddleware;

  middleware.invalidate = (url: string) => invalidate(options.cache, url, { prefix });

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
    method: string,
    base: string,
  ): Promise<void> {
    const entry = await entries.get<Entry>(base);
    let variantKey = base;
    let index: VaryIndex | undefined;
    if (entry?.t === 'r') return replay(req, res, entry, method);
    let fwd = 'uri-miss';
    if (entry?.t === 'v') {
      index = entry;
      variantKey = variantOf(base, entry, req);
      const variant = await entries.get<Entry>(variantKey);
      if (variant?.t === 'r') return replay(req, res, variant, method);
      fwd = 'vary-miss';
    }

    const flight = flights.get(variantKey);
    if (flight) {
      const result = await flight.done;
      // Only a response for the same variant may be shared.
      if (result && result.values === varyValues(result.vary, req)) {
        return replay(req, res, result.response, method, cacheStatus({ fwd, collapsed: true }));
      }
      res.setHeader('Cache-Status', cacheStatus({ fwd }));
      return next();
    }
    res.setHeader('Cache-Status', cacheStatus({ fwd }));
    if (method === 'HEAD') return next(); // a HEAD response has no body to keep
    lead(req, res, next, base, variantKey, index, fwd);
  }

  /** Runs the handler for a cold key, records the response and stores it if it may be cached. */
  function lead(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
    base: string,
    flightKey: string,
    index: VaryIndex | undefined,
    fwd: string,
  ): void {
    let settle!: (value: Awaited<Flight['done']>) => void;
    const done = new Promise<Awaited<Flight['done']>>((resolve) => {
      settle = resolve;
    });
    flights.set(flightKey, { done });
    const finish = (value: Awaited<Flight['done']>) => {
      flights.delete(flightKey);
      settle(value);
    };

    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const write = res.write;
    const end = res.end;
    const collect = (chunk: unknown, encoding?: unknown) => {
      if (chunk == null || typeof chunk === 'function' || tooLarge) return;
      const buf = Buffer.isBuffer(chunk)
        ? chunk
        : chunk instanceof Uint8Array
          ? Buffer.from(chunk)
          : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      size += buf.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(buf);
    };
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      collect(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      collect(args[0], args[1]);
      // Headers still unsent and the whole body known: say now whether the response will be stored.
      if (!res.headersSent && !tooLarge && willStore(res))
        res.setHeader('Cache-Status', cacheStatus({ fwd, stored: true }));
      return (end as (...args: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['end'];

    res.once('finish', () => {
      const response = tooLarge ? undefined : cacheable(res, Buffer.concat(chunks));
      if (!response) return finish(undefined);
      const vary = varyOf(res);
      if (vary === '*') return finish(undefined);
      const values = varyValues(vary, req);
      finish({ vary, values, response });
      store(base, index, vary, req, response).catch(() => {
        // A failed cache write only costs a future miss; the response was already sent.
      });
    });
    res.once('close', () => {
      if (!res.writableFinished) finish(undefined);
    });
    next();
  }

  async function store(
    base: string,
    index: VaryIndex | undefined,
    vary: string[],
    req: IncomingMessage,
    response: StoredResponse,
  ): Promise<void> {
    if (vary.length === 0) return entries.set(base, response, ttlMs);
    let current = index;
    if (!current || current.v.join(',') !== vary.join(',')) {
      current = { t: 'v', v: vary, g: randomBytes(6).toString('hex') };
      await entries.set(base, current, ttlMs);
    }
    await entries.set(variantOf(base, current, req), response, ttlMs);
  }

  /** Whether a response with these status and headers may be stored (the body size aside). */
  function willStore(res: ServerResponse): boolean {
    if (!statuses.has(res.statusCode)) return false;
    if (res.hasHeader('set-cookie')) return false;
    const cc = res.getHeader('cache-control');
    if (hasDirective(cc, 'no-store') || hasDirective(cc, 'private') || hasDirective(cc, 'no-cache')) return false;
    return varyOf(res) !== '*';
  }

  function cacheable(res: ServerResponse, body: Buffer): StoredResponse | undefined {
    if (!willStore(res)) return undefined;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(res.getHeaders())) {
      if (!NOT_STORED.has(name) && value !== undefined) headers[name] = value;
    }
    return { t: 'r', s: res.statusCode, h: headers, b: body.toString('base64'), at: Date.now() };
  }

  function replay(
    req: IncomingMessage,
    res: ServerResponse,
    entry: StoredResponse,
    method: string,
    status?: string,
  ): void {
    for (const [name, value] of Object.entries(entry.h)) if (value !== undefined) res.setHeader(name, value);
    res.setHeader('X-Cache', 'HIT');
    res.setHeader(
      'Cache-Status',
      status ?? cacheStatus({ hit: true, ttl: Math.max(0, (entry.at + ttlMs - Date.now()) / 1000) }),
    );
    res.setHeader('Age', String(Math.max(0, Math.floor((Date.now() - entry.at) / 1000))));
    const etag = entry.h.etag;
    if (etag !== undefined && req.headers['if-none-match'] === String(etag)) {
      res.statusCode = 304;
      for (const name of ['content-length', 'content-type']) res.removeHeader(name);
      res.end();
      return;
    }
    res.statusCode = entry.s;
    if (method === 'HEAD') res.end();
    else res.end(Buffer.from(entry.b, 'base64'));
  }

  return middleware;
}

/**
 * Forgets every cached response of `url` kept by a `responseCache` on `cache` (with the same
 * `prefix`). Returns true if something was cached.
 */
export async function invalidate(cache: CacheLike, url: string, options: { prefix?: string } = {}): Promise<boolean> {
  // Deleting the base entry drops the response, or the vary index (whose generation id the old
  // variants are keyed by, so they can never be reached again).
  return cache.namespace(options.prefix ?? 'rc').delete(shorten(url));
}

function defaultKey(req: KeyRequest): string {
  return req.originalUrl ?? req.url ?? '/';
}

function baseKey(key: string, requestVary: string[], req: IncomingMessage): string {
  if (requestVary.length === 0) return shorten(key);
  return shorten(`${key}\n${varyValues(requestVary, req)}`);
}

/** Long URLs are hashed so keys stay within every backend's key limit. */
function shorten(key: string): string {
  if (key.length <= MAX_KEY_CHARS && !/\s/.test(key) && !hasControl(key)) return key;
  return `#${createHash('sha256').update(key).digest('base64url')}`;
}

function variantOf(base: string, index: VaryIndex, req: IncomingMessage): string {
  const hash = createHash('sha256').update(varyValues(index.v, req)).digest('base64url').slice(0, 22);
  return `${base}#v${index.g}.${hash}`;
}

function varyValues(names: string[], req: IncomingMessage): string {
  return names
    .map((name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(',') : (value ?? '');
    })
    .join('\n');
}

/** The response's `Vary` header names, lower-case and sorted; `'*'` when it varies on everything. */
function varyOf(res: ServerResponse): string[] | '*' {
  const header = res.getHeader('vary');
  if (header === undefined) return [];
  const names = String(Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes('*')) return '*';
  return [...new Set(names)].sort();
}

function hasDirective(header: string | number | string[] | undefined, directive: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : String(header);
  return text
    .toLowerCase()
    .split(',')
    .some((part) => part.trim().split('=')[0] === directive);
}

function hasControl(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) < 0x20 || key.charCodeAt(i) === 0x7f) return true;
  return false;
}
