// The app API: the facade, the manager, config, errors, option and result types. Driver authors
// import `@larder/core/driver`, test authors `@larder/core/testing` (see docs/architecture.md).

export { Cache } from './cache/cache';
export type { CacheScope } from './cache/cache-scope';
export type {
  CacheErrorEvent,
  CacheEventMap,
  CacheEventName,
  CacheListener,
  CacheStats,
} from './cache/events';
export { Lock } from './cache/operations/lock';
export type { CacheOptions, Loader, LoaderContext, RememberOptions, WithLockOptions } from './cache/options';
export type { LoadMany, RememberManyOptions } from './cache/remember/batch-loader';
export type { RememberResult } from './cache/remember/remember-status';
export type { StoreHealth } from './cache/store-breaker';
export {
  type ConfigFromEnvOptions,
  configFromEnv,
  defineConfig,
  envVariables,
} from './config/config-from-env';
export { registerDriver } from './config/driver-registry';
export type { L1Options } from './config/l1-options';
export type { RememberDefaults } from './config/remember-defaults';
export {
  type CacheManagerConfig,
  customDriver,
  type LarderDrivers,
  type StoreConfig,
  type StoreOrConfig,
} from './config/store-config';
export {
  BackendError,
  ChunkedValueError,
  ConfigError,
  DecryptionError,
  DriverNotFoundError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidTagError,
  InvalidTtlError,
  isLarderError,
  LarderError,
  type LarderErrorCodes,
  LoaderBackoffError,
  LoaderTimeoutError,
  LockTimeoutError,
  MissingValueStepError,
  SerializationError,
  TimeoutError,
  UnsupportedOperationError,
  ValueTooLargeError,
} from './contract/errors';
export type { StoreDescription } from './contract/store-description';
export { type AppCache, cache, getDefaultManager, resetDefaultManager, setDefaultManager } from './manager/app-cache';
export {
  CacheManager,
  type CacheManagerOptions,
  createCacheManager,
  type ManagerConfig,
} from './manager/manager';
export {
  type HitOptions,
  type RateLimitAttempt,
  type RateLimitDecision,
  RateLimiter,
  type RateLimitSource,
  type RateLimitStoreDownEvent,
} from './rate-limit/limiter';
export type { RateLimiterOptions, StoreDownMode } from './rate-limit/options';
export { type OperationTraceContext, operationChannel } from './util/tracing';
export type { EncryptionKey, EncryptOptions } from './values/cipher';
export { type Codec, jsonCodec } from './values/codec';
export type { Ttl } from './values/ttl';
export type { ByteSize } from './values/value-options';
export type { CompressOptions } from './values/value-steps';
