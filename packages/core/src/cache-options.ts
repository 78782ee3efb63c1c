import type { Codec } from './codec';
import type { CacheStore } from './contract';
import type { L1Options } from './l1/l1-options';
import type { Ttl } from './ttl';

/** Options of a `Cache`. */
export interface CacheOptions {
  /** The store, or a promise of it (awaited once; a rejection surfaces on every operation). */
  store: CacheStore | Promise<CacheStore>;
  /** Store name, for messages and integrations. @default 'default' */
  name?: string;
  /** Prefix of every key this cache writes; `clear()` removes only keys under it. @default '' */
  prefix?: string;
  /** TTL of writes that give none; `undefined` stores forever. */
  ttl?: Ttl;
  /** Value codec; ignored by stores with `capabilities.rawValues`. @default jsonCodec */
  codec?: Codec;
  /** `'throw'` rejects with `BackendError`; `'miss'` turns failed reads into misses and drops failed writes. Both emit `error`. @default 'throw' */
  onError?: 'throw' | 'miss';
  /** Upper bound of every backend call (skipped for in-process stores). @default '5s' */
  timeout?: Ttl;
  /** Put the key (namespace path + key) in the `larder.operation` trace context of single-key operations. Keys can be personal data: off unless asked. @default false */
  traceKeys?: boolean;
  /** An in-process L1 in front of the store (DESIGN.md "Two tiers"); ignored for in-process stores. @default none */
  l1?: L1Options;
}

/** Options of `remember`. */
export interface RememberOptions {
  /** Keep the value this long past its TTL; within it, serve it stale while one background refresh runs, and serve it when the loader fails. */
  grace?: Ttl;
  /** Cross-process single-flight: on a miss only the holder of the key's lock (reserved `__larder:remember:` namespace) runs the loader; others wait for its value (`ttl` of the lock, `wait` before running the loader themselves; both @default '10s'). */
  lock?: boolean | { ttl?: Ttl; wait?: Ttl };
}

/** Options of `withLock`. */
export interface WithLockOptions {
  /** Wait up to this long for the lock (retrying with back-off); without it, one attempt. */
  wait?: Ttl;
}
