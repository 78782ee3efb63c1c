import { readFileSync } from 'node:fs';
// Types only from core (see DriverEnvironment): errors and parsers come from the reader.
import type { DriverEnvironment, EnvReader } from '@larder/core/driver';
import type { RedisStoreOptions } from './options';
import { checkTopology, ENV_NAMES, type TopologyField } from './topology-rules';
import { checkUrlPorts } from './url-ports';

/** A `redis` store in a manager config: `driver` and `RedisStoreOptions`, checked by the compiler. */
export interface RedisDriverConfig extends RedisStoreOptions {
  driver: 'redis';
}

// The typed driver registry (docs/architecture.md "Typed store configs"): `{ driver: 'redis' }`
// in a manager config is checked against `RedisDriverConfig`.
declare module '@larder/core' {
  interface LarderDrivers {
    redis: RedisDriverConfig;
  }
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
  const sentinels = read.hostPorts('REDIS_SENTINELS', 26379);
  const sentinelName = read.string('REDIS_SENTINEL_NAME');
  const clusterNodes = read.hostPorts('REDIS_CLUSTER_NODES', 6379);
  // The same rules as on options given in code (options.ts), naming the variables.
  checkTopology(
    { replicaUrls, readFrom, sentinels, sentinelName, clusterNodes },
    {
      names: ENV_NAMES,
      invalid: (field: TopologyField, value, allowed) => read.invalid(ENV_NAMES[field], value, allowed),
      error: (message, field: TopologyField) => read.error(message, ENV_NAMES[field]),
    },
  );
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
