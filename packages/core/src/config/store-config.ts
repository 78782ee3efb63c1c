import type { CacheStore, DriverFactory } from '../contract/store';
import type { Ttl } from '../values/ttl';
import type { ValueOptions } from '../values/value-options';
import type { EnvReader } from './env-reader';
import type { L1Options } from './l1-options';
import type { RememberDefaults } from './remember-defaults';

/**
 * Store configuration: `driver` plus the facade options below, and the driver's own options. A
 * config is typed by its driver: each driver package adds its config type to `LarderDrivers`, so
 * an unknown option or a wrong type fails to compile (docs/architecture.md "Typed store configs").
 */

/** Facade options every store accepts, whatever its driver (the value pipeline's among them: `codec`, `compress`, `encrypt`, `maxValueBytes`). */
export interface CommonStoreOptions extends ValueOptions {
  /** Key prefix for this store; isolates apps and environments on shared servers. @default manager prefix */
  prefix?: string;
  /** Default TTL when a write gives none; `undefined` stores forever. */
  ttl?: Ttl;
  /** `'throw'` rejects with `BackendError`; `'miss'` turns failed reads into misses and drops failed writes. Both emit `error`. @default 'throw' */
  onError?: 'throw' | 'miss';
  /** Upper bound of every backend call, in ms or a duration (skipped for in-process stores). @default '5s' */
  timeout?: Ttl;
  /** Put keys in `larder.operation` trace contexts (docs/architecture.md "Observability"); keys can be personal data. @default false */
  traceKeys?: boolean;
  /** An in-process L1 in front of this store (`CACHE_L1`; docs/architecture.md "Two tiers"); ignored for in-process stores. @default none */
  l1?: L1Options;
  /** The L2 breaker: while the cache's `health()` says the store is down (3 consecutive failed or timed-out calls), calls fail at once (serving the L1 and graced values) until a probe, every 100 ms growing to 1 s, answers; `describe().breaker` reports it (`CACHE_BREAKER=on` from the environment). Never for in-process stores. @default false */
  breaker?: boolean;
  /** Defaults of every `remember` of this store: grace, lock, timeouts, failure backoff, refresh-ahead, `maxConcurrentLoads` (core README "remember when the source fails"). @default none */
  remember?: RememberDefaults;
}

/**
 * The typed driver registry: driver name -> its store config type. Each driver package adds
 * itself by declaration merging (`declare module '@larder/core' { interface LarderDrivers {
 * redis: RedisDriverConfig } }`), as can an app for its own `extend()` driver.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each driver package.
export interface LarderDrivers {}

/** A store config of a driver listed in `LarderDrivers`, discriminated on `driver`. */
export type RegisteredStoreConfig = LarderDrivers[keyof LarderDrivers];

declare const customBrand: unique symbol;

/** A driver name marked with `customDriver()`: its store config is not checked against `LarderDrivers`. */
export type CustomDriverName = string & { readonly [customBrand]: true };

/**
 * The escape hatch: a store of a driver `LarderDrivers` does not list (an `extend()` driver whose
 * config type the app did not register), marked by `driver: customDriver('name')`. Its options
 * other than the facade's are not checked.
 */
export interface CustomDriverConfig extends CommonStoreOptions {
  driver: CustomDriverName;
  [option: string]: unknown;
}

/**
 * Marks a store's driver name as unchecked (`{ driver: customDriver('files'), root: '/tmp' }`):
 * the name itself at run time, a `CustomDriverConfig` for the compiler.
 */
export function customDriver(name: string): CustomDriverName {
  return name as CustomDriverName;
}

/** Configuration of one named store: a registered driver's config, or a `customDriver()` one. */
export type StoreConfig = RegisteredStoreConfig | CustomDriverConfig;

/** A store config as core handles it at run time, whatever its driver (what drivers and `configFromEnv` produce). */
export interface AnyStoreConfig extends CommonStoreOptions {
  driver: string;
  [option: string]: unknown;
}

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

/** A `CacheManagerConfig` whose stores may also be ready `CacheStore`s (e.g. in tests). */
export interface ManagerConfig extends Omit<CacheManagerConfig, 'stores'> {
  /** Named stores: a config (discriminated on `driver`: checked against `LarderDrivers`) or a ready store. */
  stores?: Record<string, StoreOrConfig>;
}

/** Built-in driver names and the package that provides each (loaded on first use). */
export const BUILTIN_DRIVERS: Readonly<Record<string, string>> = Object.freeze({
  memory: '@larder/memory',
  redis: '@larder/redis',
  memcached: '@larder/memcached',
  elasticache: '@larder/memcached',
  dynamodb: '@larder/dynamodb',
});

// What a driver package gives core, here with the configs they produce and the manager config that
// lists them: these types name each other, and one module keeps the import graph free of cycles.

/**
 * What a driver package contributes to `configFromEnv`, exported as `larderEnv` from its light
 * `<package>/env` entry. That entry imports no backend client, and only types from core: every
 * parser and error comes from the `EnvReader` it is handed, so the `ConfigError` thrown is the
 * caller's copy of core whichever build (ESM or CJS) of the entry was loaded.
 */
export interface DriverEnvironment {
  /** The driver name (`redis`, `memcached`...). */
  driver: string;
  /** Every variable `stores()` may read (for `ENV_VARIABLES`, `larder doctor` and the docs). */
  variables: readonly string[];
  /** Names accepted by `CACHE_DRIVER` / `SESSION_DRIVER` for one of its stores, e.g. `{ elasticache: 'memcached' }`. */
  aliases?: Readonly<Record<string, string>>;
  /** Stores `SESSION_DRIVER` selects instead of the same-named one, e.g. `{ dynamodb: 'dynamodb_sessions' }` (Laravel's sessions table). */
  sessionAliases?: Readonly<Record<string, string>>;
  /** The stores this driver configures from the environment, validated (a bad value throws `ConfigError`). */
  stores(read: EnvReader): Record<string, StoreConfig>;
}

/**
 * What every driver package exports as `larderDriver`: its factory (still callable as one, e.g.
 * `caches.extend('redis', larderDriver)`), carrying its environment module, whose `driver` and
 * `aliases` are the driver names it serves.
 */
// biome-ignore lint/suspicious/noExplicitAny: each driver's config type; the registry only routes them.
export type LarderDriver<C = any> = DriverFactory<C> & { readonly environment: DriverEnvironment };

/** A driver package's module (`import * as redis from '@larder/redis'`, `require('@larder/redis')`). */
export interface DriverModule {
  readonly larderDriver: LarderDriver;
}

/**
 * A driver loaded on its first use, for bundlers (they see the static import) and tests:
 * `{ driver: 'redis', load: () => import('@larder/redis') }`.
 */
export interface LazyDriver {
  /** The driver name stores use. */
  readonly driver: string;
  /** Other names it serves (`['elasticache']` for memcached). */
  readonly aliases?: readonly string[];
  /** Its environment module (`larderEnv` from `<package>/env`), for `configFromEnv`. */
  readonly environment?: DriverEnvironment;
  /** Loads the package. */
  load(): Promise<DriverModule | LarderDriver>;
}

/** A driver given to `createCacheManager({ drivers })`, `configFromEnv(env, { drivers })` or `registerDriver`. */
export type DriverSource = LarderDriver | DriverModule | LazyDriver;
