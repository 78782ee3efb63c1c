import type { CacheStore } from '../contract/store';
import type { L1Options } from '../l1/options';
import type { Codec } from '../values/codec';
import type { Ttl } from '../values/ttl';
import type { DriverSource } from './driver-registry';

/**
 * Store configuration: `driver` plus the facade options below; every other key is the driver's
 * own (each driver package exports and documents its config type, e.g. `RedisDriverConfig`) and
 * is passed through to the driver's factory untouched.
 */

/** Facade options every store accepts, whatever its driver. */
export interface CommonStoreOptions {
  /** Key prefix for this store; isolates apps and environments on shared servers. @default manager prefix */
  prefix?: string;
  /** Default TTL when a write gives none; `undefined` stores forever. */
  ttl?: Ttl;
  /** Value codec; ignored by stores with `capabilities.rawValues`. @default jsonCodec */
  codec?: Codec;
  /** `'throw'` rejects with `BackendError`; `'miss'` turns failed reads into misses and drops failed writes. Both emit `error`. @default 'throw' */
  onError?: 'throw' | 'miss';
  /** Upper bound of every backend call, in ms or a duration (skipped for in-process stores). @default '5s' */
  timeout?: Ttl;
  /** Put keys in `larder.operation` trace contexts (docs/architecture.md "Observability"); keys can be personal data. @default false */
  traceKeys?: boolean;
  /** An in-process L1 in front of this store (`CACHE_L1`; docs/architecture.md "Two tiers"); ignored for in-process stores. @default none */
  l1?: L1Options;
}

/** A store config of any driver: a built-in one (each driver package exports its own config type) or one registered with `extend()`. */
export interface CustomDriverConfig extends CommonStoreOptions {
  driver: string;
  [option: string]: unknown;
}

/** Configuration of one named store. */
export type StoreConfig = CustomDriverConfig;

/** Configuration of a `CacheManager`. */
export interface CacheManagerConfig {
  /** Name of the default store (`CACHE_STORE` / `CACHE_DRIVER`). @default 'memory' */
  default?: string;
  /** Name of the store sessions use (`SESSION_STORE`, else `SESSION_DRIVER`). @default the default store */
  sessionStore?: string;
  /** Prefix applied to every store that sets none (`CACHE_PREFIX`). @default 'larder:' */
  prefix?: string;
  /** Default TTL of every store that sets none (`CACHE_TTL`). */
  ttl?: Ttl;
  /** Named stores. A store named like a built-in driver needs no entry (`memory` works with no config). */
  stores?: Record<string, StoreConfig>;
  /**
   * Driver packages given explicitly (`import * as redis from '@larder/redis'`), used before a
   * built-in package is looked for: for bundles and layouts where larder cannot find them.
   */
  drivers?: readonly DriverSource[];
}

/** A ready store given instead of a config (e.g. in tests). */
export type StoreOrConfig = StoreConfig | CacheStore;
