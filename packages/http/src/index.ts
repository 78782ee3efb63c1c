export {
  type HttpRequest,
  type Refresher,
  ResponseCacheEngine,
  type ResponseCacheStats,
  type Step,
} from './engine';
export type { StoredResponse } from './entry';
export { originFrom } from './key';
export { backgroundRequest, type Dispatch, isBackground } from './node/background';
export {
  type Middleware,
  type NodeBinding,
  nodeRequest,
  nodeResponseCache,
  type ResponseCacheMiddleware,
  sendReplayed,
} from './node/node';
export type { KeyRequest, ResponseCacheOptions } from './options';
export { cacheTagHeader, invalidate } from './purge';
export { type RateLimiterLike, type RateLimitHeaders, rateLimitHeaders } from './rate-limit-headers';
export { type Replayed, type ReplayOptions, replayed } from './replay';
export { type CapturedResponse, HandlerRun } from './run';
export { type CacheStatusParams, cacheStatus, type Detail, type Forward } from './status';
export {
  type UndiciCacheKey,
  UndiciCacheStore,
  type UndiciCacheStoreOptions,
  type UndiciCacheValue,
  type UndiciGetResult,
  undiciCacheStore,
} from './undici-store';
export { type FetchHandler, type WebBinding, type WebResponseCache, webRequest, webResponseCache } from './web/web';
