export type { SessionStoreOptions } from './options';
export { type RateLimiterLike, type RateLimitMiddleware, type RateLimitOptions, rateLimit } from './rate-limit';
export {
  type ClientRateLimitInfo,
  ExpressRateLimitStore,
  type ExpressRateLimitStoreOptions,
  type StoreLimiterLike,
} from './rate-limit-store';
export {
  invalidate,
  type Middleware,
  type ResponseCacheMiddleware,
  type ResponseCacheStats,
  responseCache,
} from './response-cache';
export type { KeyRequest, ResponseCacheOptions } from './response-cache-options';
export { type SessionLockHandle, type SessionLockOptions, SessionLockTimeoutError, sessionLock } from './session-lock';
export { CacheSessionStore, type SessionCookie, type SessionData, type SessionInput } from './session-store';
