export type { KeyRequest } from '@larder/http';
export {
  type ClientRateLimitInfo,
  ExpressRateLimitStore,
  type ExpressRateLimitStoreOptions,
  type StoreLimiterLike,
} from './rate-limit/express-rate-limit-store';
export {
  type RateLimiterLike,
  type RateLimitMiddleware,
  type RateLimitOptions,
  rateLimit,
} from './rate-limit/middleware';
export type { ExpressResponseCacheOptions as ResponseCacheOptions } from './response-cache/middleware';
export {
  invalidate,
  type Middleware,
  type ResponseCacheMiddleware,
  type ResponseCacheStats,
  responseCache,
} from './response-cache/middleware';
export { type SessionLockHandle, type SessionLockOptions, SessionLockTimeoutError, sessionLock } from './sessions/lock';
export type { SessionStoreOptions } from './sessions/options';
export { CacheSessionStore, type SessionCookie, type SessionData, type SessionInput } from './sessions/session-store';
