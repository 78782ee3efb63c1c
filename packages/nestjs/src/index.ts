export { Cached, type CachedOptions, type InvalidatedTags, InvalidateTags, type TagsOf } from './decorators';
export { LarderModule, type LarderModuleAsyncOptions, type LarderModuleOptions } from './module';
export {
  LARDER_RESPONSE_CACHE_OPTIONS,
  LarderResponseCache,
  LarderResponseCacheMiddleware,
  type NestResponseCacheOptions,
} from './response-cache';
export { LarderThrottlerStorage, type LarderThrottlerStorageOptions } from './throttler-storage';
export { LARDER_CACHE } from './wiring';
