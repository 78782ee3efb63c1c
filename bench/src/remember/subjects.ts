/**
 * The three read-through APIs the remember bench compares (remember-bench.ts), each as a "variant":
 * a library with a fixed set of options, opened as `n` in-process instances on one Redis. Each
 * instance has its own connection and its own in-process state (single-flight maps, locks), as
 * `n` app processes behind a balancer would; what they share is the Redis.
 * - larder: a `Cache` over `createRedisStore`, no L1; `remember(key, ttl, loader, options)`.
 * - bentocache: a `BentoCache` whose one store is its Redis driver as the L2 layer, no memory
 *   layer and no bus (no tier the other libraries lack); `getOrSet({ key, ttl, factory, ... })`.
 * - cache-manager: `createCache` over keyv + @keyv/redis; `wrap(key, fn, ttl, refreshThreshold)`.
 */
import KeyvRedis from '@keyv/redis';
import { Cache, type RememberOptions } from '@larder/core';
import { createRedisStore } from '@larder/redis';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';

export const BENTO = 'bentocache 1.6.0';
export const CACHE_MANAGER = 'cache-manager 7.2.9';

/** What a loader does, as the three libraries call it (larder and bentocache pass a context; it is ignored). */
export type Load = () => Promise<string>;

/** `n` instances of one library with fixed options. */
export interface Fleet {
  /** Instance `i`'s read-through call of `key`: the cached value, or `load`'s stored for `ttlMs`. */
  remember(i: number, key: string, ttlMs: number, load: Load): Promise<unknown>;
  close(): Promise<void>;
}

/** A library with its options, as one row of the table names it. */
export interface Variant {
  subject: string;
  /** The options, as the table shows them. */
  options: string;
  open(server: { url: string; host: string; port: number }, n: number): Fleet;
}

/** larder with `options` on every call. */
export function larder(options: RememberOptions, text: string): Variant {
  return {
    subject: 'larder',
    options: text,
    open(server, n) {
      const caches = Array.from({ length: n }, () => new Cache({ store: createRedisStore({ url: server.url }) }));
      return {
        remember: (i, key, ttlMs, load) => (caches[i] as Cache).remember(key, ttlMs, load, options),
        close: async () => {
          await Promise.all(caches.map((cache) => cache.close()));
        },
      };
    },
  };
}

/** bentocache's `getOrSet` options the bench sets (durations in ms). */
export interface BentoOptions {
  grace?: number;
  graceBackoff?: number;
  /** Soft timeout (bentocache's `timeout`; its default 0 answers a graced value at once and refreshes in the background). */
  timeout?: number;
}

/** bentocache with `options` on every call. */
export function bento(options: BentoOptions, text: string): Variant {
  return {
    subject: BENTO,
    options: text,
    open(server, n) {
      const caches = Array.from(
        { length: n },
        () =>
          new BentoCache({
            default: 'redis',
            stores: {
              redis: bentostore().useL2Layer(redisDriver({ connection: { host: server.host, port: server.port } })),
            },
          }),
      );
      return {
        remember: (i, key, ttlMs, load) =>
          (caches[i] as (typeof caches)[number]).getOrSet({ key, ttl: ttlMs, factory: load, ...options }),
        close: async () => {
          await Promise.all(caches.map((cache) => cache.disconnectAll()));
        },
      };
    },
  };
}

/** How cache-manager's `wrap` is called: plain, with grace emulated, or with a refresh threshold. */
export interface CacheManagerOptions {
  /**
   * Emulated grace (cache-manager has none): the value is stored for `ttl + grace` with
   * `refreshThreshold = grace`, so once its own TTL is over it is still served, and refreshed in
   * the background on each call (once at a time per instance).
   */
  grace?: number;
  /** `refreshThreshold = (1 - refreshAt) × ttl`: a hit past `refreshAt` of the TTL refreshes in the background. */
  refreshAt?: number;
}

/** cache-manager with `options` on every call. */
export function cacheManager(options: CacheManagerOptions, text: string): Variant {
  return {
    subject: CACHE_MANAGER,
    options: text,
    open(server, n) {
      const stores = Array.from({ length: n }, () => new Keyv({ store: new KeyvRedis(server.url), namespace: 'cm' }));
      const caches = stores.map((store) => createCache({ stores: [store] }));
      const wrap = (i: number, key: string, ttlMs: number, load: Load) => {
        const cache = caches[i] as (typeof caches)[number];
        if (options.grace !== undefined) return cache.wrap(key, load, ttlMs + options.grace, options.grace);
        if (options.refreshAt !== undefined) return cache.wrap(key, load, ttlMs, (1 - options.refreshAt) * ttlMs);
        return cache.wrap(key, load, ttlMs);
      };
      return {
        remember: wrap,
        close: async () => {
          await Promise.all(caches.map((cache) => cache.disconnect()));
        },
      };
    },
  };
}
