import { hash as oneShot } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Memo } from './memo';
import type { KeyRequest } from './options';

/**
 * The cache key (RFC 9111 §2, §4.1): the target URI (scheme, host, path + query) plus the values
 * of the request headers the response's `Vary` names. A URI's key is its scheme, host and resource
 * as they are when they are short and printable ASCII (most URLs: no hash per hit), else their
 * SHA-256 hash; request header values are always hashed. Either way a URL of any length or content
 * makes a short, printable key on every backend, and two URIs never share one.
 *
 * Every response (and vary head) of a resource is written through its larder scope (`cache.scope`,
 * named by `resourceScope`): invalidating the resource drops the scope, which retires every variant
 * on every host at once, whatever `vary`/`key` made them, with a hard invalidation's guarantee.
 *
 * Layout inside the middleware's namespace:
 * - `r:<origin and resource, as JSON>` when that JSON is short and printable (`literalKey`), else
 *   `r.<hash of origin, resource, vary option values>`: the response, or a vary head (the header names).
 *   A JSON array ends with `]`, never with a hash or `.b`: no key of one form is a key of the other.
 * - `<base key>.<hash of names, values>`: one variant of a URI whose responses vary.
 * - `<response key>.b`: the body of the response at that key (its head names it; entry.ts).
 */

/** Longest request target the cache handles; longer ones pass to the handler, uncached. */
export const MAX_URL_LENGTH = 8192;
/** Why a request target is not cached, or `undefined` when it may be. */
export function badTarget(url: string): 'uri-too-long' | 'uri-control' | undefined {
  if (url.length > MAX_URL_LENGTH) return 'uri-too-long';
  // One pass: a raw control character, or an encoded one (%00-%1F, %7F): passed through, never stored.
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'uri-control';
    if (c === 0x25 && encodedControl(url.charCodeAt(i + 1), url.charCodeAt(i + 2))) return 'uri-control';
  }
  return undefined;
}

// `%` followed by `0`/`1` and a hex digit, or by `7f`/`7F`.
function encodedControl(high: number, low: number): boolean {
  const hex = (low >= 0x30 && low <= 0x39) || ((low | 0x20) >= 0x61 && (low | 0x20) <= 0x66);
  if (high === 0x30 || high === 0x31) return hex;
  return high === 0x37 && (low | 0x20) === 0x66;
}

/** The scheme and host of a request, normalized: lower case, without the scheme's default port. */
export interface Origin {
  scheme: 'http' | 'https';
  /** Host (and port unless it is the default), from the absolute-form target or `Host`; never `X-Forwarded-*`. */
  host: string;
}

/**
 * A request's origin from its target as the request line had it, its `Host` and whether it came
 * over TLS (RFC 9112 §3.2.2: an absolute-form target's authority wins over `Host`).
 */
export function originFrom(target: string, host: string | string[] | undefined, encrypted: boolean): Origin {
  const scheme = encrypted ? 'https' : 'http';
  const absolute = absoluteParts(target);
  return { scheme, host: normalizeHost(absolute?.host ?? firstValue(host) ?? '', scheme) };
}

/** `host[:port]` in lower case, without the scheme's default port. */
export function normalizeHost(host: string, scheme: string): string {
  const lower = host.trim().toLowerCase();
  const defaultPort = scheme === 'https' ? ':443' : ':80';
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}

/** The default key: path + query of the target (the authority of an absolute-form target removed). */
export function defaultResource(req: KeyRequest): string {
  const url = req.originalUrl ?? req.url ?? '/';
  return absoluteParts(url)?.path ?? url;
}

/** A synthetic GET of `url` (relative or absolute), for applying a key function to it. */
export function requestFor(url: string): KeyRequest {
  const absolute = absoluteParts(url);
  const path = absolute?.path ?? url;
  return { method: 'GET', url: path, originalUrl: path, headers: absolute ? { host: absolute.host } : {} };
}

/** Longest scope name larder takes (its tag rules). */
const MAX_SCOPE_NAME = 241;

/**
 * The name of the larder scope of a resource's responses: `http:<prefix>g.<hash of resource>`,
 * where `prefix` is the response cache's full key prefix (a scope belongs to the store prefix, so
 * the name carries the namespace). A prefix too long or holding control characters is hashed.
 */
export function resourceScope(prefix: string, resource: string): string {
  const name = `http:${prefix}g.${hash(resource)}`;
  if (name.length <= MAX_SCOPE_NAME && !hasControl(prefix)) return name;
  return `http#${hash(prefix)}g.${hash(resource)}`;
}

// A C0 or C1 control character or DEL: not in a scope name (larder's tag rules).
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** The key of a URI's response (or vary head): origin, resource and the values of the `vary` option's headers. */
export function baseKey(
  origin: Origin,
  resource: string,
  optionVary: readonly string[],
  headers: IncomingHttpHeaders,
): string {
  if (optionVary.length > 0) {
    return `r.${hash(JSON.stringify([origin.scheme, origin.host, resource, ...varyValues(optionVary, headers)]))}`;
  }
  // Without request headers in it (which may carry credentials) the key is kept: a hit hashes nothing.
  const material = materialOf(origin.scheme, origin.host, resource);
  return BASE_KEYS.get(material) ?? BASE_KEYS.keep(material, literalKey(material) ?? `r.${hash(material)}`);
}

/** `JSON.stringify([scheme, host, resource])`, written out when no character needs escaping (most URLs). */
function materialOf(scheme: string, host: string, resource: string): string {
  if (!plainInJson(host) || !plainInJson(resource)) return JSON.stringify([scheme, host, resource]);
  return `["${scheme}","${host}","${resource}"]`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// Printable ASCII but `"` and `\`: what JSON.stringify writes as it is (the scheme is http or https).
function plainInJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return false;
  }
  return true;
}

/** Longest key material used as the key itself (with the store prefix, far under memcached's 250 bytes). */
const MAX_LITERAL_KEY = 128;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * `material` as its own key (`r:` + it) when it is at most 128 characters of printable ASCII
 * without spaces or braces (the JSON of most URLs), else `undefined` (hash it): no hash to
 * compute, and distinct materials stay distinct keys. Braces are hashed because Redis Cluster
 * places a key holding `{...}` by that part alone: URLs sharing one would share one slot.
 */
export function literalKey(material: string): string | undefined {
  if (material.length > MAX_LITERAL_KEY) return undefined;
  for (let i = 0; i < material.length; i++) {
    const c = material.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === OPEN_BRACE || c === CLOSE_BRACE) return undefined;
  }
  return `r:${material}`;
}

/** The base keys of the last URIs keyed without request headers (origin and resource → key). */
const BASE_KEYS = new Memo<string, string>(1024);

/** The key of one variant: the base key, the `Vary` names and this request's values of them. */
export function variantKey(base: string, names: readonly string[], headers: IncomingHttpHeaders): string {
  return `${base}.${hash(JSON.stringify([names, varyValues(names, headers)]))}`;
}

/**
 * The request's values of `names` (lower case). An absent header is `null` and an empty one `''`:
 * RFC 9111 §4.1 treats them as different. Repeated lines are joined as Node joins them.
 */
export function varyValues(names: readonly string[], headers: IncomingHttpHeaders): (string | null)[] {
  return names.map((name) => {
    const value = headers[name];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  });
}

/** Whether two requests have the same values of `names`. */
export function sameVariant(
  names: readonly string[],
  a: IncomingHttpHeaders,
  b: IncomingHttpHeaders | readonly (string | null)[],
): boolean {
  const left = varyValues(names, a);
  const right = Array.isArray(b) ? b : varyValues(names, b as IncomingHttpHeaders);
  return left.every((value, i) => value === right[i]);
}

/** The key of the body of the response stored at `entryKey` (a base or variant key). */
export function bodyKey(entryKey: string): string {
  return `${entryKey}.b`;
}

/** A short digest of a request header value (single-flight keys never hold credentials in clear). */
export function digest(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return hash(Array.isArray(value) ? value.join('\n') : value);
}

// One-shot `crypto.hash` (Node >= 20.12): about half the CPU of createHash().update().digest().
function hash(text: string): string {
  return oneShot('sha256', text, 'base64url');
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The host and path + query of an absolute URL (`http://host/path?q`), or `undefined` for a path. */
function absoluteParts(url: string): { host: string; path: string } | undefined {
  if (url.startsWith('/')) return undefined;
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (!match) return undefined;
  const authority = match[1] as string;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  const rest = match[2] as string;
  return { host, path: rest.startsWith('/') ? rest : `/${rest}` };
}
