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
  /** The L2 breaker: after 3 consecutive failed or timed-out store calls, calls fail at once (serving the L1 and graced values) until a probe, every 100 ms growing to 1 s, answers; `health()`, `up` and `down` report it. Not for in-process stores. @default false */
  breaker?: boolean;
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

/** Options of `remember`. */
export interface RememberOptions {
  /** Keep the value this long past its TTL; within it, serve it stale while one background refresh runs, and serve it when the loader fails. */
  grace?: Ttl;
  /** Cross-process single-flight: on a miss only the holder of the key's lock (reserved `__larder:remember:` namespace) runs the loader; others wait for its value (`ttl` of the lock, `wait` before running the loader themselves; both @default '10s'). */
  lock?: boolean | { ttl?: Ttl; wait?: Ttl };
  /** Tags the stored value carries, with the cache view's own (`Cache.tags`); their versions are read before the loader runs (core README "Tags"). */
  tags?: readonly string[];
  /**
   * Bounds on a loader's run. `soft` (with a stale value within `grace`): the callers wait for the
   * refresh this long, then get the stale value while the loader finishes in the background through
   * the never-stale write; without `soft`, a stale value is answered at once. `hard`: past it the
   * callers reject with `LoaderTimeoutError` (or get the stale value within `grace`), the loader's
   * `signal` aborts, and the key's flight and lock are released, so the next caller starts a new
   * run; a result that comes later is not stored. `soft` must be below `hard`.
   */
  timeout?: { soft?: Ttl; hard?: Ttl };
  /**
   * After a loader failure, no run of the key for `backoff`, doubling per consecutive failure up to
   * `max`, for the whole fleet (a marker in the store's reserved namespace): meanwhile a stale value
   * within `grace` is served, else the call rejects with `LoaderBackoffError` (its `cause` the last
   * failure). One instance probes the source when a window ends. @default backoff '1s', max '1m'
   */
  failure?: { backoff?: Ttl; max?: Ttl };
  /**
   * A hit older than `at` of the TTL (a fraction in (0, 1), minus a random share up to `jitter`,
   * in [0, at)) starts one background refresh before the value expires, so a hot key never hits
   * its TTL boundary: one instance of the fleet refreshes (an atomic `add` that does not wait),
   * after re-reading the store and adopting an entry another instance refreshed already.
   */
  refreshAhead?: { at: number; jitter?: number };
  /** Most background refreshes (of stale values, and ahead of expiry) the cache runs at once across its keys; past it a hit serves its value and starts none. Callers waiting on a miss are never refused. @default no bound */
  maxConcurrentLoads?: number;
}

/** Options of `withLock`. */
export interface WithLockOptions {
  /** Wait up to this long for the lock (retrying with back-off); without it, one attempt. */
  wait?: Ttl;
}
