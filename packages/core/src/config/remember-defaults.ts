import type { Ttl } from '../values/ttl';

/**
 * `remember`'s options a cache or a store config can set for every call (the `remember` option);
 * a call's own options win, option by option (a call's `timeout` replaces the default `timeout`).
 */
export interface RememberDefaults {
  /** Keep the value this long past its TTL; within it, serve it stale while one background refresh runs, and serve it when the loader fails. */
  grace?: Ttl;
  /** Cross-process single-flight: on a miss only the holder of the key's lock (reserved `__larder:remember:` namespace) runs the loader; others wait for its value (`ttl` of the lock, `wait` before running the loader themselves; both @default '10s'). */
  lock?: boolean | { ttl?: Ttl; wait?: Ttl };
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
