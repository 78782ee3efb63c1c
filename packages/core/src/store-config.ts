import type { Codec } from './codec';
import type { CacheStore } from './contract';
import type { Ttl } from './ttl';

/**
 * Store configuration, discriminated on `driver`. The fields of the built-in drivers listed
 * here are what `configFromEnv` produces; each driver package documents these and its extra
 * options (extra keys are passed through to the driver's factory untouched).
 */

/** Facade options every store accepts, whatever its driver. */
export interface CommonStoreOptions {
  /** Key prefix for this store; isolates apps and environments on shared servers. @default manager prefix */
  prefix?: string;
  /** Default TTL when a write gives none; `undefined` stores forever. */
  ttl?: Ttl;
  /** Value codec. @default jsonCodec */
  codec?: Codec;
  /** `'throw'` rejects on backend errors; `'miss'` turns reads into misses and drops writes (an `error` event is emitted). @default 'throw' */
  onError?: 'throw' | 'miss';
  /** Upper bound for every backend call, in ms or a duration. @default '5s' */
  timeout?: Ttl;
}

export interface MemoryDriverConfig extends CommonStoreOptions {
  driver: 'memory';
  /** Most entries kept (least recently used are evicted). @default 10_000 */
  maxEntries?: number;
  /** Most bytes kept (approximate, by encoded size). @default 64 MiB */
  maxBytes?: number;
  /** Copy values in and out so later mutation does not leak into the cache; false stores references (faster). @default true */
  clone?: boolean;
  [option: string]: unknown;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisDriverConfig extends CommonStoreOptions {
  driver: 'redis';
  /** Primary URL, `redis://` or `rediss://` (TLS), with optional user and password. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Read replica URLs (e.g. the ElastiCache reader endpoint). */
  replicaUrls?: string[];
  /** Where reads go. @default 'primary' */
  readFrom?: 'primary' | 'replica';
  /** Sentinel nodes; turns Sentinel mode on (with `sentinelName`). */
  sentinels?: HostPort[];
  /** Sentinel master group name. @default 'mymaster' */
  sentinelName?: string;
  /** Cluster seed nodes; turns Cluster mode on. */
  clusterNodes?: HostPort[];
  [option: string]: unknown;
}

export interface MemcachedDriverConfig extends CommonStoreOptions {
  driver: 'memcached' | 'elasticache';
  /** Static node list, `host:port` each. @default ['127.0.0.1:11211'] when no config endpoint is given */
  servers?: string[];
  /** ElastiCache configuration endpoint `host:port`; turns auto-discovery on. */
  configEndpoint?: string;
  /** Discovery poll interval. @default '60s' */
  discoveryInterval?: Ttl;
  /** SASL user name. */
  username?: string;
  /** SASL password. */
  password?: string;
  /** Use TLS to every node (and the configuration endpoint). @default false */
  tls?: boolean | Record<string, unknown>;
  [option: string]: unknown;
}

export interface DynamoDbDriverConfig extends CommonStoreOptions {
  driver: 'dynamodb';
  /** Table name. @default 'CacheTable' */
  table?: string;
  /** Endpoint URL (DynamoDB Local, a VPC endpoint). */
  endpoint?: string;
  /** AWS region. @default AWS_REGION / AWS_DEFAULT_REGION, else 'us-east-1' */
  region?: string;
  /** Attribute names, like Laravel's `attributes`. @default { key: 'id', value: 'value', expiration: 'expires_at' } */
  attributes?: { key?: string; value?: string; expiration?: string };
  [option: string]: unknown;
}

/** A store built by a driver registered with `extend()`, or an already-built store. */
export interface CustomDriverConfig extends CommonStoreOptions {
  driver: string;
  [option: string]: unknown;
}

/** Configuration of one named store. */
export type StoreConfig =
  | MemoryDriverConfig
  | RedisDriverConfig
  | MemcachedDriverConfig
  | DynamoDbDriverConfig
  | CustomDriverConfig;

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
}

/** A ready store given instead of a config (e.g. in tests). */
export type StoreOrConfig = StoreConfig | CacheStore;
