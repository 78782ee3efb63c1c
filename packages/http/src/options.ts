import { type Cache, ConfigError, type Ttl } from '@larder/core';
import { parseTtl } from '@larder/core/driver';

/** What a response-cache key function receives (Express and plain `node:http` requests both fit). */
export interface KeyRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Options of a response cache, the same on every binding; `Res` is the response its `tags` function sees. */
export interface ResponseCacheOptions<Res = unknown> {
  /** Where responses are kept (a `Cache` or a namespace of one). */
  cache: Cache;
  /** Longest time a response is kept; its own `s-maxage`/`max-age`/`Expires` can only shorten it. */
  ttl: Ttl;
  /**
   * The resource part of the key, in place of the path + query; scheme and host always stay in
   * the key. `invalidate(url)` calls it with a GET of `url`. @default the path + query
   */
  key?: (req: KeyRequest) => string;
  /** Request headers always part of the key (the response's own `Vary` headers are added automatically). */
  vary?: string[];
  /** Which of GET and HEAD are answered from the cache (only GET fills it). @default ['GET', 'HEAD'] */
  methods?: string[];
  /** Response statuses that are cached. @default [200] */
  statuses?: number[];
  /** Largest body kept, in bytes; larger responses are passed through uncached. @default 1 MiB */
  maxBodyBytes?: number;
  /** Namespace of the response keys inside the cache. @default 'rc' */
  prefix?: string;
  /** Longest wait for a cache lookup; past it the handler runs and the lookup is abandoned. @default '50ms' */
  lookupBudget?: Ttl;
  /**
   * Tags of a stored response, called once the handler's response is complete (with its `Cache-Tag`
   * header's tags added); `cache.invalidateTags([...])` then purges those responses on every
   * instance. @default the `Cache-Tag` header's tags only
   */
  tags?: (req: KeyRequest, res: Res) => readonly string[];
  /**
   * RFC 5861 `stale-while-revalidate` for responses whose `Cache-Control` does not say: a stale
   * entry answers at once while one revalidation runs behind, this long after it went stale.
   * Never for a response with `must-revalidate`, `proxy-revalidate` or `s-maxage`. @default off
   */
  staleWhileRevalidate?: Ttl;
  /**
   * RFC 5861 `stale-if-error` for responses whose `Cache-Control` does not say: a handler error
   * (5xx) is answered with the stale entry this long after it went stale. @default off
   */
  staleIfError?: Ttl;
}

/** Options after validation. */
export interface ResolvedResponseCacheOptions<Res = unknown> {
  cache: Cache;
  ttlMs: number;
  key: ((req: KeyRequest) => string) | undefined;
  vary: string[];
  methods: ReadonlySet<string>;
  statuses: ReadonlySet<number>;
  maxBodyBytes: number;
  prefix: string;
  budgetMs: number;
  tags: ((req: KeyRequest, res: Res) => readonly string[]) | undefined;
  /** The stale windows for responses that do not set their own (ms; 0: off). */
  staleWindows: StaleWindows;
}

/** RFC 5861 windows applied to responses that do not carry the directive (ms; 0: off). */
export interface StaleWindows {
  whileRevalidateMs: number;
  ifErrorMs: number;
}

/** Validates the middleware's options once; bad ones are a `ConfigError` naming the option. */
export function resolveResponseCacheOptions<Res>(
  options: ResponseCacheOptions<Res>,
): ResolvedResponseCacheOptions<Res> {
  if (!options || typeof options.cache?.get !== 'function') {
    throw new ConfigError('responseCache needs { cache }: a Cache from @larder/core', 'cache');
  }
  const methods = (options.methods ?? ['GET', 'HEAD']).map((m) => String(m).toUpperCase());
  const other = methods.filter((m) => m !== 'GET' && m !== 'HEAD');
  if (other.length > 0) {
    throw new ConfigError(
      `responseCache methods may only name GET and HEAD (only GET fills a shared cache; other methods pass through and unsafe ones invalidate the URI), got ${other.join(', ')}`,
      'methods',
    );
  }
  const statuses = options.statuses ?? [200];
  for (const status of statuses) {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new ConfigError(
        `responseCache statuses must be integers from 200 to 599, got ${String(status)}`,
        'statuses',
      );
    }
  }
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new ConfigError(
      `responseCache maxBodyBytes must be a positive integer, got ${String(maxBodyBytes)}`,
      'maxBodyBytes',
    );
  }
  const vary = options.vary ?? [];
  if (
    !Array.isArray(vary) ||
    vary.some((name) => typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name))
  ) {
    throw new ConfigError('responseCache vary must be a list of header names', 'vary');
  }
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new ConfigError('responseCache key must be a function of the request', 'key');
  }
  if (options.tags !== undefined && typeof options.tags !== 'function') {
    throw new ConfigError('responseCache tags must be a function of the request and the response', 'tags');
  }
  const prefix = options.prefix ?? 'rc';
  if (typeof prefix !== 'string' || prefix === '') {
    throw new ConfigError(`responseCache prefix must be a non-empty string, got ${String(prefix)}`, 'prefix');
  }
  return {
    cache: options.cache,
    ttlMs: parseTtl(options.ttl),
    key: options.key,
    vary: [...new Set(vary.map((name) => name.toLowerCase()))].sort(),
    methods: new Set(methods),
    statuses: new Set(statuses),
    maxBodyBytes,
    prefix,
    budgetMs: parseTtl(options.lookupBudget ?? '50ms'),
    tags: options.tags,
    staleWindows: {
      whileRevalidateMs: staleWindow(options.staleWhileRevalidate, 'staleWhileRevalidate'),
      ifErrorMs: staleWindow(options.staleIfError, 'staleIfError'),
    },
  };
}

/** A stale window option in ms (0 when absent); anything but a valid TTL is a `ConfigError` naming it. */
function staleWindow(value: Ttl | undefined, name: string): number {
  if (value === undefined) return 0;
  try {
    return parseTtl(value);
  } catch {
    throw new ConfigError(`responseCache ${name} must be a TTL (ms, or '30s', '10m'...), got ${String(value)}`, name);
  }
}
