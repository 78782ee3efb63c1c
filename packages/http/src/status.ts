/**
 * Why the cache forwarded a request to the handler (RFC 9211 `fwd`): `uri-miss` (nothing usable
 * stored for the URI), `vary-miss` (the URI varies and this variant is not stored), `stale` (the
 * entry's freshness ran out), `request` (the request's own `Cache-Control`/`Pragma`), `method`
 * (not GET/HEAD), `bypass` (a URI the cache refuses to handle).
 */
export type Forward = 'uri-miss' | 'vary-miss' | 'stale' | 'request' | 'method' | 'bypass';

/**
 * The `detail` of `Cache-Status`: the rule that kept a response out of the cache (or, when it was
 * stored anyway, the one that kept the stored entry from answering this request). The package
 * README's table lists each with its RFC section.
 */
export type Detail =
  | 'authorization'
  | 'forwarded'
  | 'range'
  | 'head'
  | 'status'
  | 'no-store'
  | 'private'
  | 'no-cache'
  | 'set-cookie'
  | 'no-freshness'
  | 'vary-star'
  | 'vary-limit'
  | 'stale'
  | 'stale-while-revalidate'
  | 'too-large'
  | 'encoding'
  | 'unavailable'
  | 'uri-too-long'
  | 'uri-control';

/** The parameters of larder's `Cache-Status` member. */
export interface CacheStatusParams {
  hit?: boolean;
  fwd?: Forward | string;
  /** The status the handler answered a forwarded request with, when the cache answered from its entry instead (a revalidation's 304, an error). */
  fwdStatus?: number;
  /** Seconds of freshness left (hits). */
  ttl?: number;
  /** The response is being written to the cache. */
  stored?: boolean;
  /** The response was shared with concurrent requests for the same key. */
  collapsed?: boolean;
  detail?: Detail | string;
}

/**
 * RFC 9211 `Cache-Status` (a structured-field list; larder's member is the token `larder`): `hit`
 * with `ttl`, or `fwd` with `stored` when the response is kept, `collapsed` when it answered
 * concurrent requests, and `detail` naming the rule that kept it out of the cache.
 */
export function cacheStatus(params: CacheStatusParams): string {
  let value = 'larder';
  if (params.hit) value += '; hit';
  if (params.fwd !== undefined) value += `; fwd=${params.fwd}`;
  if (params.fwdStatus !== undefined) value += `; fwd-status=${params.fwdStatus}`;
  if (params.ttl !== undefined) value += `; ttl=${Math.max(0, Math.floor(params.ttl))}`;
  if (params.stored) value += '; stored';
  if (params.collapsed) value += '; collapsed';
  if (params.detail !== undefined) value += `; detail=${params.detail}`;
  return value;
}
