import { type ResponseCacheOptions, type ResponseCacheStats, webResponseCache } from '@larder/http';
import type { MiddlewareHandler } from 'hono';

/** The Hono middleware, with a helper to drop a URL's cached responses. */
export interface HonoResponseCache extends MiddlewareHandler {
  /** Retires every cached response of `url` (all variants, all hosts when `url` is relative). Resolves true if the URL had entries. */
  invalidate(url: string): Promise<boolean>;
  /** Resolves once every cache write and invalidation this middleware started has settled (tests, shutdown). */
  settled(): Promise<void>;
  /** Counters (see `ResponseCacheStats`). */
  stats(): ResponseCacheStats;
}

/**
 * The response cache as Hono middleware: `@larder/http`'s Web binding with the options of
 * `@larder/express`'s `responseCache` (RFC 9111 shared cache, revalidation, RFC 5861,
 * `X-Cache` and `Cache-Status`). `next()` runs once per request, so a stale entry under
 * `stale-while-revalidate` is revalidated by the request itself, not in the background.
 */
export function responseCache(options: ResponseCacheOptions<Response>): HonoResponseCache {
  const rc = webResponseCache(options, { background: false });
  const middleware = (async (c, next) => {
    const original = c.req.raw;
    const response = await rc(original, async (request) => {
      // A revalidation asks with the entry's validators: the handler reads them from c.req.
      if (request !== original) c.req.raw = request;
      try {
        await next();
      } finally {
        c.req.raw = original;
      }
      return c.res;
    });
    c.res = response;
  }) as HonoResponseCache;
  middleware.invalidate = (url) => rc.invalidate(url);
  middleware.settled = () => rc.settled();
  middleware.stats = () => rc.stats();
  return middleware;
}
