import type { Cache } from '../cache/cache';
import { configFromEnv } from '../config/config-from-env';
import { type CacheManager, createCacheManager } from './manager';

/** The `Cache` methods the app-level `cache` offers, delegated to the default store (written once: the type comes from it). */
const ASYNC_METHODS = [
  'get',
  'getMany',
  'set',
  'setMany',
  'add',
  'has',
  'delete',
  'deleteMany',
  'pull',
  'increment',
  'decrement',
  'touch',
  'forever',
  'compareAndSet',
  'remember',
  'rememberWithStatus',
  'rememberForever',
  'invalidateTags',
  'withLock',
  'clear',
  'describe',
  'getStore',
  'capabilities',
] as const satisfies readonly (keyof Cache)[];

/** The methods that answer synchronously: a bad environment throws from them instead of rejecting. */
const SYNC_METHODS = [
  'lock',
  'namespace',
  'withOptions',
  'tags',
  'scope',
  'keys',
  'stats',
] as const satisfies readonly (keyof Cache)[];

type CacheMethod = (typeof ASYNC_METHODS)[number] | (typeof SYNC_METHODS)[number];

/** The app-level cache: the `Cache` API of the default manager's default store. */
export type AppCache = Pick<Cache, CacheMethod> & {
  /** Adds an event listener to the current default store's cache. */
  on: (...args: Parameters<Cache['on']>) => AppCache;
  /** Removes an event listener from the current default store's cache. */
  off: (...args: Parameters<Cache['off']>) => AppCache;
  /** The manager behind it (built from `process.env` on first use). */
  manager(): CacheManager;
};

let defaultManager: CacheManager | undefined;

/** The manager behind `cache`: the one set with `setDefaultManager`, else one built from `configFromEnv()` on first use. */
export function getDefaultManager(): CacheManager {
  defaultManager ??= createCacheManager(configFromEnv());
  return defaultManager;
}

/** Replaces the manager behind `cache` (tests, or an app that builds its own config). Listeners added through `cache.on` stay with the old one. */
export function setDefaultManager(manager: CacheManager | undefined): void {
  defaultManager = manager;
}

/** Closes the manager behind `cache` and forgets it; the next use builds a fresh one from the environment. */
export async function resetDefaultManager(): Promise<void> {
  const manager = defaultManager;
  defaultManager = undefined;
  await manager?.close();
}

function current(): Cache {
  return getDefaultManager().store();
}

/**
 * The app-level cache (Laravel's `Cache` facade): `await cache.remember('k', '5m', load)`.
 * On first use it builds `createCacheManager(configFromEnv())` (so a bad environment variable
 * throws there, with a `ConfigError` naming it) and delegates every call to its default store.
 */
export const cache: AppCache = (() => {
  const facade = {
    on(...args: Parameters<Cache['on']>) {
      current().on(...args);
      return facade;
    },
    off(...args: Parameters<Cache['off']>) {
      current().off(...args);
      return facade;
    },
    manager: getDefaultManager,
  } as unknown as AppCache;
  const sync: ReadonlySet<CacheMethod> = new Set(SYNC_METHODS);
  for (const method of [...ASYNC_METHODS, ...SYNC_METHODS]) {
    Object.defineProperty(facade, method, {
      enumerable: true,
      value(...args: unknown[]) {
        let target: Cache;
        try {
          target = current();
        } catch (error) {
          // A bad environment surfaces the way the method reports errors: async methods reject.
          if (sync.has(method)) throw error;
          return Promise.reject(error);
        }
        return (target[method] as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
  }
  return Object.freeze(facade);
})();
