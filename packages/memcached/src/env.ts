// Types only from core (see DriverEnvironment): errors and parsers come from the reader.

import type { DriverEnvironment, EnvReader } from '@larder/core/driver';
import type { MemcachedStoreOptions } from './options';
import { checkRules, ENV_NAMES, type RuleField } from './rules';

/** A `memcached` (or `elasticache`) store in a manager config: `driver` and `MemcachedStoreOptions`, checked by the compiler. */
export interface MemcachedDriverConfig extends MemcachedStoreOptions {
  driver: 'memcached' | 'elasticache';
}

// The typed driver registry (docs/architecture.md "Typed store configs"): `{ driver: 'memcached' }`
// (or `'elasticache'`) in a manager config is checked against `MemcachedDriverConfig`.
declare module '@larder/core' {
  interface LarderDrivers {
    memcached: MemcachedDriverConfig;
    elasticache: MemcachedDriverConfig;
  }
}

/** memcached's port, the default of every address without one. */
export const DEFAULT_PORT = 11211;

const VARIABLES = [
  'MEMCACHED_SERVERS',
  'MEMCACHED_CONFIG_ENDPOINT',
  'MEMCACHED_DISCOVERY_INTERVAL',
  'MEMCACHED_USERNAME',
  'MEMCACHED_PASSWORD',
  'MEMCACHED_TLS',
] as const;

/** The `memcached` store from `MEMCACHED_*` variables, validated (a bad value throws `ConfigError` naming it). */
export function memcachedConfigFromEnv(read: EnvReader): MemcachedDriverConfig {
  const servers = read.addresses('MEMCACHED_SERVERS', DEFAULT_PORT);
  const configEndpoint = read.address('MEMCACHED_CONFIG_ENDPOINT', DEFAULT_PORT);
  const discoveryInterval = read.duration('MEMCACHED_DISCOVERY_INTERVAL');
  const username = read.string('MEMCACHED_USERNAME');
  const password = read.string('MEMCACHED_PASSWORD');
  // The same rules as on options given in code (options.ts), naming the variables.
  checkRules(
    { configEndpoint, discoveryInterval, username, password },
    { names: ENV_NAMES, error: (message, field: RuleField) => read.error(message, ENV_NAMES[field]) },
  );
  const tls = read.boolean('MEMCACHED_TLS');
  const config: MemcachedDriverConfig = { driver: 'memcached' };
  if (servers) config.servers = servers;
  if (configEndpoint) config.configEndpoint = configEndpoint;
  if (discoveryInterval !== undefined) config.discoveryInterval = discoveryInterval;
  if (username !== undefined) Object.assign(config, { username, password });
  if (tls !== undefined) config.tls = tls;
  return config;
}

/** The `memcached` store for `configFromEnv`; `elasticache` (memcached with auto-discovery) selects it too. */
export const larderEnv: DriverEnvironment = {
  driver: 'memcached',
  variables: VARIABLES,
  aliases: { elasticache: 'memcached' },
  stores: (read) => ({ memcached: memcachedConfigFromEnv(read) }),
};
