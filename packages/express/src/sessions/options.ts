import { Cache, ConfigError, type EncryptOptions, type Ttl } from '@larder/core';
import { parseTtl } from '@larder/core/driver';

/** Options of `CacheSessionStore`. */
export interface SessionStoreOptions {
  /** The cache sessions live in (e.g. `caches.sessionStore()`); a `Cache`, never a driver. Sessions fail closed whatever its `onError`. */
  cache: Cache;
  /** Namespace of the session keys inside the cache. @default 'sess' */
  prefix?: string;
  /** Lifetime of a session whose cookie has no expiry (a browser-session cookie). @default '1d' */
  ttl?: Ttl;
  /**
   * Lazy touch: the backend expiry is only pushed forward when that gains at least this much; an
   * unchanged session `set` is skipped under the same rule. `0` writes on every touch/set.
   * @default 10% of the session's lifetime, at most 1 hour
   */
  touchAfter?: Ttl | 0;
  /**
   * @deprecated Ignored (checked only): the cache's health probes the backend while it is down
   * (every 100 ms, growing to 1 s; core README "The store's health").
   */
  probeInterval?: Ttl;
  /**
   * Most session ids whose last-read data and latest asked-for expiry are remembered (for unchanged-`set`
   * skipping, and for the cookie `expires` a read hands back after a skipped push). @default 10_000
   */
  maxTracked?: number;
  /**
   * The session field naming the user (e.g. `'userId'`): enables `store.sessionsOf(userId)` and
   * `store.destroyUser(userId)`, through a per-user index kept in the cache.
   */
  userKey?: string;
  /**
   * express-session's `Store` class, for a bundle where `express-session` cannot be loaded by name:
   * its `regenerate`, `load` and `createSession` serve this instance. When `express-session` is
   * installed it is the store's parent class already (`instanceof` holds).
   */
  Store?: new () => object;
  /**
   * Encrypt the sessions (AES-256-GCM; the first key writes, every key reads; core README "Values"):
   * the sessions then live in a cache over the same store and prefix with this `encrypt`. Set it
   * here or on the cache's store config, not both (`SESSION_ENCRYPT` sets the store's).
   */
  encrypt?: EncryptOptions;
}

/** Options after validation. */
export interface ResolvedSessionStoreOptions {
  /** The given cache seen with `onError: 'throw'` (`withOptions`): sessions always fail closed. */
  cache: Cache;
  prefix: string;
  ttlMs: number;
  /** `undefined` = relative default (10% of the session lifetime, capped at 1 h). */
  touchAfterMs: number | undefined;
  maxTracked: number;
  userKey: string | undefined;
}

/** Validates the session store options once, at construction. */
export function resolveSessionStoreOptions(options: SessionStoreOptions): ResolvedSessionStoreOptions {
  if (!options || typeof options.cache?.get !== 'function' || typeof options.cache?.withOptions !== 'function') {
    throw new ConfigError('CacheSessionStore needs { cache }: a Cache from @larder/core (not a driver)', 'cache');
  }
  // Namespaces add their own ':' separator; accept the connect-redis style 'sess:' too.
  const prefix = (options.prefix ?? 'sess').replace(/:$/, '');
  if (typeof prefix !== 'string' || prefix === '') {
    throw new ConfigError(`CacheSessionStore prefix must be a non-empty string, got ${String(prefix)}`, 'prefix');
  }
  const maxTracked = options.maxTracked ?? 10_000;
  if (!Number.isInteger(maxTracked) || maxTracked < 0) {
    throw new ConfigError(`CacheSessionStore maxTracked must be an integer >= 0, got ${maxTracked}`, 'maxTracked');
  }
  if (options.probeInterval !== undefined) parseTtl(options.probeInterval);
  const cache =
    options.encrypt === undefined
      ? options.cache.withOptions({ onError: 'throw' })
      : new Cache({
          store: options.cache.getStore(),
          prefix: options.cache.prefix,
          name: options.cache.name,
          encrypt: options.encrypt,
          onError: 'throw',
          breaker: options.cache.health().failFast === true,
        });
  return {
    cache,
    prefix,
    ttlMs: parseTtl(options.ttl ?? '1d'),
    touchAfterMs:
      options.touchAfter === undefined ? undefined : options.touchAfter === 0 ? 0 : parseTtl(options.touchAfter),
    maxTracked,
    userKey: checkUserKey(options.userKey),
  };
}

function checkUserKey(userKey: unknown): string | undefined {
  if (userKey === undefined) return undefined;
  if (typeof userKey !== 'string' || userKey === '' || userKey === 'cookie') {
    throw new ConfigError(`CacheSessionStore userKey must name a session field, got ${String(userKey)}`, 'userKey');
  }
  return userKey;
}
