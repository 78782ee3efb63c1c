export type { CacheLike, KeyRequest, ResponseCacheOptions, SessionStoreOptions } from './options';
export { invalidate, type Middleware, type ResponseCacheMiddleware, responseCache } from './response-cache';
export { CacheSessionStore, type SessionCookie, type SessionData, type SessionInput } from './session-store';
