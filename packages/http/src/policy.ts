import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { httpDate } from './dates';
import { Memo } from './memo';
import { type ByteRange, parseRange, rangeMayUse } from './range';
import type { Detail, Forward } from './status';

/**
 * The rules of a shared cache (RFC 9111), as pure functions of a request and a response: what
 * the cache may look up, what it may serve, what it may store and for how long. The middleware
 * (middleware.ts) only moves bytes according to these answers. Each refusal names its
 * `Cache-Status` detail; the package README has the table with the RFC section of every rule.
 */

/** A request as the rules see it. */
export interface RequestView {
  method: string;
  headers: IncomingHttpHeaders;
}

/** A response as the rules see it: its status and headers as the handler made them (lower-case names). */
export interface ResponseView {
  status: number;
  headers: OutgoingHttpHeaders;
}

/** What a stored response says about itself (the rest of the entry is bytes to replay). */
export interface StoredView extends ResponseView {
  /** Epoch ms after which it is stale. */
  expiresAt: number;
  /** It may answer requests that carry `Authorization` (§3.5). */
  shared: boolean;
  /** Body length. */
  length: number;
}

/** RFC 9110 §15.1: the statuses a cache may give a heuristic freshness lifetime (RFC 9111 §4.2.2). */
const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([
  200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
]);
/** Most header names a `Vary` may list; a response varying on more is not stored. */
export const MAX_VARY_NAMES = 32;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
// Never replayed (RFC 9110 §7.6.1 hop-by-hop, plus what is per response or the cache's own).
// `Date` is replayed: a cache keeps the origin's Date and adds `Age` (RFC 9110 §6.6.1, RFC 9111 §4).
const NOT_REPLAYED = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'age',
  'set-cookie',
  'x-cache',
  'cache-status',
  'content-length',
]);

/** What to do with a request before any lookup. */
export type RequestPlan =
  | { pass: true; fwd: Forward; detail?: Detail; invalidates: boolean }
  | { pass: false; head: boolean };

const LOOK_UP_GET: RequestPlan = Object.freeze({ pass: false, head: false });
const LOOK_UP_HEAD: RequestPlan = Object.freeze({ pass: false, head: true });

/** §4 and §5.2.1: methods, the request's own directives. `methods` are those the cache answers (GET/HEAD). */
export function planRequest(req: RequestView, methods: ReadonlySet<string>): RequestPlan {
  const method = req.method;
  if (!methods.has(method)) return { pass: true, fwd: 'method', invalidates: !SAFE.has(method) };
  // Most requests carry neither header: nothing to parse (and one shared answer, no allocation).
  if (req.headers['cache-control'] === undefined && req.headers.pragma === undefined) {
    return method === 'HEAD' ? LOOK_UP_HEAD : LOOK_UP_GET;
  }
  const cc = directives(req.headers['cache-control']);
  if (cc.has('no-store')) return { pass: true, fwd: 'request', detail: 'no-store', invalidates: false };
  // Pragma: no-cache counts only when there is no Cache-Control (RFC 9111 §5.4).
  const pragma =
    req.headers['cache-control'] === undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(req.headers.pragma ?? '');
  if (cc.has('no-cache') || pragma) return { pass: true, fwd: 'request', detail: 'no-cache', invalidates: false };
  return { pass: false, head: method === 'HEAD' };
}

/** §4.4: an unsafe method answered with a non-error status invalidates its URI. */
export function invalidatesUri(status: number): boolean {
  return status >= 200 && status < 400;
}

/** The answer for a request from a stored response: serve it (maybe one byte range of it), or why not. */
export type ServeDecision = { serve: true; range?: ByteRange } | { serve: false; fwd: Forward; detail?: Detail };

/** §4.2 freshness, §3.5 Authorization, content codings, RFC 9110 §14 ranges. */
export function serveDecision(entry: StoredView, req: RequestView, now: number, fwd: Forward): ServeDecision {
  if (now >= entry.expiresAt) return { serve: false, fwd: 'stale' };
  if (req.headers.authorization !== undefined && !entry.shared) return { serve: false, fwd, detail: 'authorization' };
  if (!acceptsCoding(req.headers['accept-encoding'], entry.headers['content-encoding'])) {
    return { serve: false, fwd, detail: 'encoding' };
  }
  const rangeHeader = req.method === 'GET' ? req.headers.range : undefined;
  if (rangeHeader === undefined) return { serve: true };
  // A stored 206, or an encoded body, is never sliced nor replayed to another Range.
  if (entry.status !== 200 || hasCoding(entry.headers['content-encoding']))
    return { serve: false, fwd, detail: 'range' };
  if (!rangeMayUse(single(req.headers['if-range']), entry.headers.etag, entry.headers['last-modified'])) {
    return { serve: false, fwd, detail: 'range' };
  }
  const range = parseRange(rangeHeader, entry.length);
  return range ? { serve: true, range } : { serve: false, fwd, detail: 'range' };
}

/** A response that may be stored: how long it stays fresh, and who may get it. */
export interface Storable {
  store: true;
  /** Epoch ms at which it goes stale (`now` + freshness lifetime − its corrected initial age). */
  expiresAt: number;
  /** Seconds of age it already had when it arrived: its corrected initial age (§4.2.3, `initialAge`). */
  age: number;
  /** May answer requests with `Authorization` (§3.5: `public`, `s-maxage` or `must-revalidate`). */
  shared: boolean;
  /** The header names its `Vary` lists (lower case, sorted). */
  vary: string[];
}

/** Context of `storeDecision`. */
export interface StoreContext {
  statuses: ReadonlySet<number>;
  ttlMs: number;
  /** Epoch ms the response arrived (RFC 9111 §4.2.3 `response_time`). */
  now: number;
  /** Epoch ms the handler was asked (§4.2.3 `request_time`). @default now */
  requestTime?: number;
  /** Request headers the `vary` option already keys on. */
  keyed: readonly string[];
  /** The request's origin as the key sees it. */
  origin: { scheme: string; host: string };
  maxBodyBytes: number;
}

/** §3 what may be stored; the first rule that refuses names the detail. */
export function storeDecision(
  req: RequestView,
  res: ResponseView,
  ctx: StoreContext,
): Storable | { store: false; detail: Detail } {
  if (req.method !== 'GET') return { store: false, detail: 'head' };
  if (req.headers.range !== undefined) return { store: false, detail: 'range' };
  if (!ctx.statuses.has(res.status)) return { store: false, detail: 'status' };
  const cc = directives(res.headers['cache-control']);
  if (cc.has('no-store')) return { store: false, detail: 'no-store' };
  if (cc.has('private')) return { store: false, detail: 'private' };
  if (cc.has('no-cache')) return { store: false, detail: 'no-cache' };
  if (res.headers['set-cookie'] !== undefined) return { store: false, detail: 'set-cookie' };
  // §3, §4.2.2: any other status needs explicit freshness, or `public` to allow a heuristic one.
  if (!HEURISTICALLY_CACHEABLE.has(res.status) && !explicitlyCacheable(cc, res.headers)) {
    return { store: false, detail: 'no-freshness' };
  }
  const vary = varyNames(res.headers.vary);
  if (vary === '*') return { store: false, detail: 'vary-star' };
  if (vary.length > MAX_VARY_NAMES) return { store: false, detail: 'vary-limit' };
  const shared = cc.has('public') || cc.has('s-maxage') || cc.has('must-revalidate');
  if (req.headers.authorization !== undefined && !shared) return { store: false, detail: 'authorization' };
  if (forwardedElsewhere(req.headers, ctx.origin, [...ctx.keyed, ...vary]))
    return { store: false, detail: 'forwarded' };
  if (res.status === 206 && !completePartial(res.headers)) return { store: false, detail: 'range' };
  const length = Number(res.headers['content-length']);
  if (Number.isFinite(length) && length > ctx.maxBodyBytes) return { store: false, detail: 'too-large' };
  const ageValue = ageOf(res.headers.age);
  // An Age it cannot read may hide a response of any age: treated as stale (see ageOf).
  if (ageValue === undefined) return { store: false, detail: 'stale' };
  const age = initialAge(ageValue, res.headers.date, ctx.now, ctx.requestTime ?? ctx.now);
  const lifetimeMs = Math.min(ctx.ttlMs, freshnessLifetime(cc, res.headers, ctx.now));
  const left = lifetimeMs - age * 1000;
  if (!(left > 0)) return { store: false, detail: 'stale' };
  return { store: true, expiresAt: ctx.now + left, age, shared, vary };
}

/**
 * §4.2.1 for a shared cache: `s-maxage`, else `max-age`, else `Expires` − `Date`; the `ttl` option
 * caps it. An invalid value means already stale (§4.2.1, §5.3).
 */
export function freshnessLifetime(
  cc: ReadonlyMap<string, string | true>,
  headers: OutgoingHttpHeaders,
  now: number,
): number {
  const seconds = cc.get('s-maxage') ?? cc.get('max-age');
  if (seconds !== undefined) return /^\d+$/.test(String(seconds)) ? Number(seconds) * 1000 : 0;
  const expires = headers.expires;
  if (expires === undefined) return Number.POSITIVE_INFINITY;
  const at = httpDate(String(expires));
  if (Number.isNaN(at)) return 0;
  const date = headers.date === undefined ? Number.NaN : httpDate(String(headers.date));
  return at - (Number.isNaN(date) ? now : date);
}

/** §3: `max-age`, `s-maxage` (a shared cache), `Expires`, or `public`. */
function explicitlyCacheable(cc: ReadonlyMap<string, string | true>, headers: OutgoingHttpHeaders): boolean {
  return cc.has('max-age') || cc.has('s-maxage') || headers.expires !== undefined || cc.has('public');
}

/** The headers a hit replays: all but hop-by-hop ones, those named in `Connection`, and per-response ones. */
export function replayable(headers: OutgoingHttpHeaders): Record<string, string | string[]> {
  // Most responses carry no `Connection`: no set of the names it lists is made for them.
  const named =
    headers.connection === undefined
      ? undefined
      : new Set(listOf(headers.connection).map((name) => name.toLowerCase()));
  const kept: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || NOT_REPLAYED.has(name) || named?.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return kept;
}

/** The `Vary` names, lower case, sorted and unique; `'*'` when it varies on everything. */
export function varyNames(header: OutgoingHttpHeaders[string]): string[] | '*' {
  const names = listOf(header).map((name) => name.toLowerCase());
  if (names.includes('*')) return '*';
  return [...new Set(names)].sort();
}

/**
 * Whether the request names a forwarded host or scheme (`X-Forwarded-Host`, `X-Forwarded-Proto`,
 * `Forwarded`) other than its own, without the key naming that header: an app that trusts the
 * proxy headers may have built the response from them, and it must not reach other users.
 */
export function forwardedElsewhere(
  headers: IncomingHttpHeaders,
  origin: { scheme: string; host: string },
  keyed: readonly string[],
): boolean {
  const differs = (name: string, value: string | undefined, own: string, host: boolean) => {
    if (value === undefined || keyed.includes(name)) return false;
    const first = value.split(',')[0]?.trim().toLowerCase() ?? '';
    return host ? first.replace(/:(80|443)$/, '') !== own.replace(/:(80|443)$/, '') : first !== own;
  };
  const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(',') : value);
  if (differs('x-forwarded-host', single(headers['x-forwarded-host']), origin.host, true)) return true;
  if (differs('x-forwarded-proto', single(headers['x-forwarded-proto']), origin.scheme, false)) return true;
  const forwarded = single(headers.forwarded);
  if (forwarded === undefined || keyed.includes('forwarded')) return false;
  const first = forwarded.split(',')[0] ?? '';
  const host = /(?:^|;)\s*host="?([^";]*)"?/i.exec(first)?.[1];
  const proto = /(?:^|;)\s*proto="?([^";]*)"?/i.exec(first)?.[1];
  return differs('forwarded', host, origin.host, true) || differs('forwarded', proto, origin.scheme, false);
}

/**
 * Parses `Cache-Control` into directive → argument (`true` when it has none); quoted commas kept.
 * The last values parsed are kept (a hit, a store and a revalidation parse the same few): the
 * answer is shared, never to be changed.
 */
export function directives(header: OutgoingHttpHeaders[string] | undefined): ReadonlyMap<string, string | true> {
  if (header === undefined) return NO_DIRECTIVES;
  const text = Array.isArray(header) ? header.join(',') : String(header);
  const found = PARSED.get(text);
  if (found !== undefined) return found;
  const parsed = parseDirectives(text);
  return text.length > MAX_KEPT_LENGTH ? parsed : PARSED.keep(text, parsed);
}

const NO_DIRECTIVES: ReadonlyMap<string, string | true> = new Map();
const PARSED = new Memo<string, ReadonlyMap<string, string | true>>(256);
const MAX_KEPT_LENGTH = 256;

function parseDirectives(text: string): Map<string, string | true> {
  const found = new Map<string, string | true>();
  for (const part of text.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    const at = part.indexOf('=');
    const name = (at < 0 ? part : part.slice(0, at)).trim().toLowerCase();
    if (name === '') continue;
    const value =
      at < 0
        ? true
        : part
            .slice(at + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
    const before = found.get(name);
    // A repeated freshness directive: the shorter one wins (never serve longer than either says).
    if (typeof before === 'string' && typeof value === 'string' && Number(before) <= Number(value)) continue;
    found.set(name, value);
  }
  return found;
}

/** Whether `Accept-Encoding` accepts every coding of `Content-Encoding` (no header: identity only). */
export function acceptsCoding(accept: string | undefined, encoding: OutgoingHttpHeaders[string]): boolean {
  if (encoding === undefined) return true;
  const codings = listOf(encoding)
    .map((c) => c.toLowerCase())
    .filter((c) => c !== 'identity');
  if (codings.length === 0) return true;
  if (accept === undefined) return false;
  const weights = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith('q='));
    weights.set(name, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  return codings.every((coding) => {
    const alias = coding === 'x-gzip' ? 'gzip' : coding;
    const q = weights.get(coding) ?? weights.get(alias) ?? (alias === 'gzip' ? weights.get('x-gzip') : undefined);
    return (q ?? weights.get('*') ?? 0) > 0;
  });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function hasCoding(encoding: OutgoingHttpHeaders[string]): boolean {
  return listOf(encoding).some((c) => c.toLowerCase() !== 'identity');
}

/** A 206 whose `Content-Range` covers the whole representation (`bytes 0-(n-1)/n`). */
function completePartial(headers: OutgoingHttpHeaders): boolean {
  const match = /^bytes 0-(\d+)\/(\d+)$/.exec(String(headers['content-range'] ?? ''));
  return match !== null && Number(match[1]) + 1 === Number(match[2]);
}

/**
 * §5.1: the seconds of `Age` (0 without one). A list (`Age: 7200, 0`, or several field lines)
 * counts by its first member. An invalid value (not a non-negative integer) is `undefined`: §5.1
 * says a cache SHOULD ignore it, but the response may then be of any age, so it is not stored
 * (as §4.2.1 encourages for invalid freshness information). Past 2^31 it is 2^31 (§1.2.2).
 */
export function ageOf(header: OutgoingHttpHeaders[string]): number | undefined {
  if (header === undefined) return 0;
  const first = listOf(header)[0];
  if (first === undefined || !/^\d+$/.test(first)) return undefined;
  return Math.min(Number(first), 2 ** 31);
}

/**
 * §4.2.3: the corrected initial age in whole seconds, `max(apparent_age, age_value + response_delay)`:
 * `apparent_age` is `max(0, response_time − Date)` (a `Date` in the future counts 0; a missing or
 * invalid one is taken as `response_time`, RFC 9110 §6.6.1), `response_delay` the time the
 * handler took. Seconds are whole (a `Date` has no finer grain), rounded down.
 */
export function initialAge(
  ageValue: number,
  date: OutgoingHttpHeaders[string],
  responseTime: number,
  requestTime: number,
): number {
  const dateValue = date === undefined ? Number.NaN : httpDate(String(Array.isArray(date) ? date[0] : date));
  const apparent = Number.isNaN(dateValue) ? 0 : Math.max(0, Math.floor((responseTime - dateValue) / 1000));
  const delay = Math.max(0, Math.floor((responseTime - requestTime) / 1000));
  return Math.min(Math.max(apparent, ageValue + delay), 2 ** 31);
}

function listOf(header: OutgoingHttpHeaders[string] | undefined): string[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(',') : String(header);
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
