export {
  type CacheStorageOptions,
  cacheStorage,
  LarderCacheStorage,
  LarderWebCache,
} from './cache-storage';
export { type HonoRateLimitOptions, type RateLimitVariables, rateLimit } from './rate-limit';
export {
  type ClientRateLimitInfo,
  LarderRateLimitStore,
  type RateLimitStoreOptions,
  rateLimitStore,
} from './rate-limit-store';
export { type HonoResponseCache, responseCache } from './response-cache';
