export type { CacheLike, SessionStoreOptions } from './options';
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
