import { type Cache, ConfigError } from '@larder/core';

/** The injection token of the larder `Cache` that `LarderModule.forRoot` provides: `@Inject(LARDER_CACHE)`. */
export const LARDER_CACHE = 'LARDER_CACHE';

// Symbol.for: the same symbols whichever copy of this module a class was decorated with.
/** Set on a prototype by `@Cached` / `@InvalidateTags`: its instances get the module's cache. */
const USES_CACHE = Symbol.for('@larder/nestjs:uses-cache');
/** Set on an instance by `LarderModule`: the cache its decorated methods use. */
const INSTANCE_CACHE = Symbol.for('@larder/nestjs:cache');

/** Marks `prototype`'s class as one whose instances need the module's cache. */
export function markUsesCache(prototype: object): void {
  Object.defineProperty(prototype, USES_CACHE, { value: true, configurable: true });
}

/** Gives `instance` the cache if its class has decorated methods; whether it did. */
export function attachCache(instance: unknown, cache: Cache): boolean {
  if (typeof instance !== 'object' || instance === null) return false;
  if (!(instance as Record<symbol, unknown>)[USES_CACHE]) return false;
  Object.defineProperty(instance, INSTANCE_CACHE, { value: cache, configurable: true, writable: true });
  return true;
}

/** The cache of `instance`; ConfigError naming the method when LarderModule has not given one. */
export function cacheOf(instance: unknown, method: string): Cache {
  const cache = (instance as Record<symbol, Cache | undefined> | undefined)?.[INSTANCE_CACHE];
  if (cache === undefined) {
    throw new ConfigError(
      `${method} is decorated with @Cached or @InvalidateTags but has no cache: import LarderModule.forRoot({ cache }) in the app, and call it on the instance Nest made (a singleton provider or controller, from onModuleInit on)`,
      'cache',
    );
  }
  return cache;
}
