export type { CacheLike, KeyRequest, ResponseCacheOptions, SessionStoreOptions } from './options';
export { invalidate, type Middleware, type ResponseCacheMiddleware, responseCache } from './response-cache';
export { type SessionLockHandle, type SessionLockOptions, SessionLockTimeoutError, sessionLock } from './session-lock';
export { CacheSessionStore, type SessionCookie, type SessionData, type SessionInput } from './session-store';
