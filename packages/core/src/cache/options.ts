import type { RememberDefaults } from '../config/remember-defaults';
import type { CommonStoreOptions } from '../config/store-config';
import type { CacheStore } from '../contract/store';
import type { Ttl } from '../values/ttl';

/** Options of a `Cache`: the store, its name, and the facade options every store config accepts. */
export interface CacheOptions extends CommonStoreOptions {
  /** The store, or a promise of it (awaited once; a rejection surfaces on every operation). */
  store: CacheStore | Promise<CacheStore>;
  /** Store name, for messages and integrations. @default 'default' */
  name?: string;
  /** Driver name to trace and report while the store is still being created (a manager passes its config's `driver`). @default the store's, once known */
  driver?: string;
  /** Prefix of every key this cache writes; `clear()` removes only keys under it. @default '' (a manager's store: the manager's prefix) */
  prefix?: string;
}

/** Options of `Cache.withOptions`: what a view of a cache may set differently from it. */
export interface CacheViewOptions {
  /** Whether failed backend calls reject (`throw`) or read as misses (`miss`) through this view. @default the cache's */
  onError?: 'throw' | 'miss';
}

/** What a `remember` loader is given. */
export interface LoaderContext {
  /** Aborted when the run passed its hard timeout (`timeout.hard`): stop the work, its result is not used. */
  readonly signal: AbortSignal;
  /** The stale value this run refreshes (a graced entry past its logical expiry), when there is one. */
  readonly stale: unknown;
  /** How long ago the stale value's TTL ended, in ms (`undefined` without a stale value). */
  readonly staleForMs: number | undefined;
  /** Returns the loader's value to the callers without caching it. */
  skip(): void;
  /** Stores the value for `ttl` instead of the call's TTL (`InvalidTtlError` for a bad TTL: the run rejects, nothing stored). */
  setTtl(ttl: Ttl): void;
  /** Keeps the value `grace` past its TTL instead of the call's grace (`InvalidTtlError` as for `setTtl`). */
  setGrace(grace: Ttl): void;
  /** Adds tags to the stored value (with the call's and the view's; `InvalidTagError` for a bad tag: the run rejects). */
  setTags(tags: readonly string[]): void;
  /**
   * The source says the stale value is still current: the callers get it, and it is stored again
   * for a new TTL through the never-stale write (every L1 told), whatever the loader returns.
   * Without a stale value the run rejects with `InvalidArgumentError`.
   */
  notModified(): void;
}

/** A `remember` loader: the value to cache (or a promise of it). */
export type Loader<T> = (context: LoaderContext) => T | Promise<T>;

/** Options of `remember` (a call's; a cache's `remember` option gives defaults for the others, see `RememberDefaults`). */
export interface RememberOptions extends RememberDefaults {
  /** Tags the stored value carries, with the cache view's own (`Cache.tags`); their versions are read before the loader runs (core README "Tags"). */
  tags?: readonly string[];
}

/** Options of `withLock`. */
export interface WithLockOptions {
  /** Wait up to this long for the lock (retrying with back-off); without it, one attempt. */
  wait?: Ttl;
}
