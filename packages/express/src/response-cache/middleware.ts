import type { ServerResponse } from 'node:http';
import { nodeResponseCache, type ResponseCacheMiddleware, type ResponseCacheOptions } from '@larder/http';
import { expressRefresher } from './background';

export {
  cacheStatus,
  cacheTagHeader,
  invalidate,
  type Middleware,
  type ResponseCacheMiddleware,
  type ResponseCacheStats,
} from '@larder/http';

/** Options of the Express `responseCache` (its `tags` function sees the `ServerResponse`). */
export type ExpressResponseCacheOptions = ResponseCacheOptions<ServerResponse>;

/**
 * Caches GET responses as a shared cache (RFC 9111) and answers GET and HEAD from them, with
 * `X-Cache: HIT|MISS` and RFC 9211 `Cache-Status`: `@larder/http`'s `node:http` binding, with
 * `stale-while-revalidate` revalidating through the whole Express app in the background.
 */
export function responseCache(options: ExpressResponseCacheOptions): ResponseCacheMiddleware {
  return nodeResponseCache(options, { refresher: expressRefresher });
}
