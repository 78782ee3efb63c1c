export { type LarderPluginOptions, larder } from './plugin';
export {
  type LarderFastifyRateLimitStore,
  type RateLimitCount,
  type RateLimitStoreClass,
  type RateLimitStoreOptions,
  rateLimitStore,
} from './rate-limit-store';
export { type FastifyResponseCacheOptions, responseCache } from './response-cache';
