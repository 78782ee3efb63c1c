import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { imfDate } from './dates';
import type { StoredResponse } from './entry';
import type { StaleWindows } from './options';
import {
  ageOf,
  directives,
  initialAge,
  type RequestView,
  replayable,
  type StoreContext,
  serveDecision,
  storeDecision,
} from './policy';

/**
 * A stale stored entry that could answer the request if it were fresh: what the cache may still
 * do with it (RFC 9111 §4.3 revalidation, RFC 5861 `stale-if-error` / `stale-while-revalidate`).
 */
export interface Stale {
  entry: StoredResponse;
  /** It has a validator (`ETag` or `Last-Modified`): the handler is asked conditionally (§4.3.1). */
  validate: boolean;
  /** Epoch ms until which a handler error (5xx) is answered with it (RFC 5861 §4); 0: never. */
  errorUntil: number;
  /** Epoch ms until which it is served at once while one revalidation runs behind (RFC 5861 §3); 0: never. */
  revalidateUntil: number;
}

/** No window unless the response (or the request, for `stale-if-error`) says. */
export const NO_STALE_WINDOWS: StaleWindows = Object.freeze({ whileRevalidateMs: 0, ifErrorMs: 0 });

/**
 * The stale context of an entry that `serveDecision` refused only for its staleness (GET, no
 * Range); `defaults` are the windows of a response whose `Cache-Control` names none.
 */
export function staleOf(
  entry: StoredResponse,
  req: RequestView,
  now: number,
  defaults: StaleWindows = NO_STALE_WINDOWS,
): Stale | undefined {
  if (now < entry.expiresAt) return undefined;
  // Would it answer this request were it fresh (Authorization, content coding, no Range)?
  const fresh = serveDecision(entry, req, entry.expiresAt - 1, 'stale');
  if (!fresh.serve || fresh.range) return undefined;
  const cc = directives(entry.headers['cache-control']);
  // must-revalidate / proxy-revalidate / s-maxage forbid serving it stale (RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10).
  const mayServeStale = !cc.has('must-revalidate') && !cc.has('proxy-revalidate') && !cc.has('s-maxage');
  const requested = directives(req.headers['cache-control']);
  const windows = windowsOf(cc, defaults);
  const errorMs = Math.max(windows.ifErrorMs, seconds(requested.get('stale-if-error')) * 1000);
  return {
    entry,
    validate: entry.headers.etag !== undefined || entry.headers['last-modified'] !== undefined,
    errorUntil: mayServeStale && errorMs > 0 ? entry.expiresAt + errorMs : 0,
    revalidateUntil: mayServeStale && windows.whileRevalidateMs > 0 ? entry.expiresAt + windows.whileRevalidateMs : 0,
  };
}

/**
 * §4.3.1: puts the entry's validators on the request the handler sees (`If-None-Match` from its
 * `ETag`, else `If-Modified-Since` from its `Last-Modified`), in place of the client's own; returns
 * the function that puts the client's back (the client's conditional is then answered from the
 * refreshed entry).
 */
export function askConditionally(headers: IncomingHttpHeaders, entry: StoredResponse): () => void {
  const own = { inm: headers['if-none-match'], ims: headers['if-modified-since'] };
  delete headers['if-none-match'];
  delete headers['if-modified-since'];
  const etag = entry.headers.etag;
  const modified = entry.headers['last-modified'];
  if (etag !== undefined) headers['if-none-match'] = String(etag);
  else if (modified !== undefined) headers['if-modified-since'] = String(modified);
  return () => {
    delete headers['if-none-match'];
    delete headers['if-modified-since'];
    if (own.inm !== undefined) headers['if-none-match'] = own.inm;
    if (own.ims !== undefined) headers['if-modified-since'] = own.ims;
  };
}

// §3.2: never taken from a 304 (the stored body's framing and coding are the entry's).
const NOT_UPDATED = new Set(['content-length', 'content-encoding', 'content-range', 'content-type']);

/**
 * §4.3.4: the stored entry with the headers of the handler's 304 (but those of `NOT_UPDATED` and
 * those never replayed) and a new freshness lifetime from them. `store` false: the updated response
 * may not be stored (the 304 said `no-store`, or `max-age=0` makes it stale on arrival); it still
 * answers this request (§4.3.3: the stored response updated with the 304's headers), stale, and is
 * not kept.
 */
export function refreshed(
  entry: StoredResponse,
  notModified: OutgoingHttpHeaders,
  req: RequestView,
  ctx: StoreContext,
): { entry: StoredResponse; vary: string[]; store: boolean } {
  const headers = { ...entry.headers };
  const updated = replayable(notModified);
  for (const name in updated) if (!NOT_UPDATED.has(name)) headers[name] = updated[name] as string | string[];
  // The 304's Date (or the time it arrived): `Age` counts from the refresh.
  if (notModified.date === undefined) headers.date = imfDate(ctx.now);
  const rule = storeDecision(req, { status: entry.status, headers }, ctx);
  if (!rule.store) {
    const age = initialAge(ageOf(notModified.age) ?? 0, headers.date, ctx.now, ctx.requestTime ?? ctx.now);
    return { entry: withFreshness(entry, headers, ctx.now, ctx.now, age, entry.shared), vary: [], store: false };
  }
  return {
    entry: withFreshness(entry, headers, ctx.now, rule.expiresAt, rule.age, rule.shared),
    vary: rule.vary,
    store: true,
  };
}

/**
 * `entry` with new headers and freshness, every field written out: on Node 20 an object spread
 * that then adds a field (`{ ...rest, gen }`) gets a hidden class of its own each time in optimized
 * code, and every later read of it misses V8's caches.
 */
function withFreshness(
  entry: StoredResponse,
  headers: Record<string, string | string[]>,
  storedAt: number,
  expiresAt: number,
  age: number,
  shared: boolean,
): StoredResponse {
  const { status, body, length, gen, tags, bodyRef } = entry;
  return { status, headers, body, length, storedAt, expiresAt, age, shared, gen, tags, bodyRef };
}

/**
 * Until when the store keeps an entry (epoch ms): past its freshness while it can still be used
 * stale — for good when it has a validator, else its `stale-if-error`/`stale-while-revalidate`
 * window — but never longer than `ttl` after it was stored (then its generation may be gone too).
 */
export function keepUntil(
  entry: Omit<StoredResponse, 'gen'>,
  ttlMs: number,
  defaults: StaleWindows = NO_STALE_WINDOWS,
): number {
  const validator = entry.headers.etag !== undefined || entry.headers['last-modified'] !== undefined;
  const windows = windowsOf(directives(entry.headers['cache-control']), defaults);
  const window = Math.max(windows.ifErrorMs, windows.whileRevalidateMs);
  const extra = validator ? Number.POSITIVE_INFINITY : window;
  return Math.max(entry.expiresAt, Math.min(entry.storedAt + ttlMs, entry.expiresAt + extra));
}

/** The response's own windows (its directives), else the defaults (ms). */
function windowsOf(cc: ReadonlyMap<string, string | true>, defaults: StaleWindows): StaleWindows {
  const own = (name: string, fallback: number) => (cc.has(name) ? seconds(cc.get(name)) * 1000 : fallback);
  return {
    whileRevalidateMs: own('stale-while-revalidate', defaults.whileRevalidateMs),
    ifErrorMs: own('stale-if-error', defaults.ifErrorMs),
  };
}

function seconds(value: string | true | undefined): number {
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : 0;
}
