import { readFileSync } from 'node:fs';
import type { Ttl } from '@larder/core';
// Types only from core (see DriverEnvironment): errors and parsers come from the reader.
import type { CommonStoreOptions, DriverEnvironment, EnvReader, HostPort } from '@larder/core/driver';
import { checkUrlPorts } from './url-ports';

/** A `redis` store in a manager config (what `configFromEnv` produces; `RedisStoreOptions` adds the rest). */
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
  /** Read-your-writes window after a write (`REDIS_READ_YOUR_WRITES`). @default 2000 */
  readYourWritesMs?: Ttl;
  /** TLS options; `REDIS_TLS_CA_FILE` sets `{ ca }`. */
  tls?: { ca?: Buffer } & Record<string, unknown>;
  [option: string]: unknown;
}

const VARIABLES = [
  'REDIS_URL',
  'REDIS_REPLICA_URLS',
  'REDIS_READ_FROM',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_CLUSTER_NODES',
  'REDIS_READ_YOUR_WRITES',
  'REDIS_TLS_CA_FILE',
] as const;

const PROTOCOLS = ['redis:', 'rediss:'];

/** The `redis` store from `REDIS_*` variables, validated (a bad value throws `ConfigError` naming it). */
export function redisConfigFromEnv(read: EnvReader): RedisDriverConfig {
  checkUrlPorts(read, 'REDIS_URL');
  checkUrlPorts(read, 'REDIS_REPLICA_URLS');
  const url = read.url('REDIS_URL', PROTOCOLS);
  const replicaUrls = read.urls('REDIS_REPLICA_URLS', PROTOCOLS);
  const readFrom = read.string('REDIS_READ_FROM');
  if (readFrom !== undefined && readFrom !== 'primary' && readFrom !== 'replica') {
    throw read.invalid('REDIS_READ_FROM', readFrom, "'primary' or 'replica'");
  }
  const sentinels = read.hostPorts('REDIS_SENTINELS', 26379);
  const sentinelName = read.string('REDIS_SENTINEL_NAME');
  const clusterNodes = read.hostPorts('REDIS_CLUSTER_NODES', 6379);
  if (sentinels && clusterNodes) {
    throw read.error(
      'REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: choose Sentinel mode or Cluster mode',
      'REDIS_CLUSTER_NODES',
    );
  }
  if (replicaUrls && (sentinels || clusterNodes)) {
    throw read.error(
      `REDIS_REPLICA_URLS cannot be combined with ${sentinels ? 'REDIS_SENTINELS' : 'REDIS_CLUSTER_NODES'}: replicas are discovered in that mode`,
      'REDIS_REPLICA_URLS',
    );
  }
  if (sentinelName !== undefined && !sentinels) {
    throw read.error('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not', 'REDIS_SENTINEL_NAME');
  }
  if (readFrom === 'replica' && !replicaUrls && !sentinels && !clusterNodes) {
    throw read.error(
      'REDIS_READ_FROM=replica needs REDIS_REPLICA_URLS, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
      'REDIS_READ_FROM',
    );
  }
  return compact({
    driver: 'redis' as const,
    url,
    replicaUrls,
    readFrom: readFrom as RedisDriverConfig['readFrom'],
    sentinels,
    sentinelName,
    clusterNodes,
    ...redisExtrasFromEnv(read),
  });
}

/**
 * `REDIS_READ_YOUR_WRITES` (ms or a duration) and `REDIS_TLS_CA_FILE` (PEM path; turns TLS on).
 * The driver also applies them to stores configured in code (config fields win).
 */
export function redisExtrasFromEnv(read: EnvReader): Pick<RedisDriverConfig, 'readYourWritesMs' | 'tls'> {
  const extras: Pick<RedisDriverConfig, 'readYourWritesMs' | 'tls'> = {};
  const window = read.duration('REDIS_READ_YOUR_WRITES', { bareNumbers: 'ms' });
  if (window !== undefined) extras.readYourWritesMs = window;
  const caFile = read.string('REDIS_TLS_CA_FILE');
  if (caFile !== undefined) {
    try {
      extras.tls = { ca: readFileSync(caFile) };
    } catch (error) {
      throw read.error(`REDIS_TLS_CA_FILE: cannot read '${caFile}': ${(error as Error).message}`, 'REDIS_TLS_CA_FILE');
    }
  }
  return extras;
}

/** Drops undefined fields so configs read cleanly (and compare equal in tests). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

/** The `redis` store for `configFromEnv`. */
export const larderEnv: DriverEnvironment = {
  driver: 'redis',
  variables: VARIABLES,
  stores: (read) => ({ redis: redisConfigFromEnv(read) }),
};
