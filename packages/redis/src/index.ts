import { readFileSync } from 'node:fs';
import { ConfigError, type DriverContext, type DriverFactory } from '@larder/core';
import type { RedisStoreOptions } from './options';
import { createRedisStore } from './redis-store';

export { groupBySlot, keySlot } from './cluster-slots';
export { isCluster } from './connect';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_READ_YOUR_WRITES_MS,
  parseRedisUrl,
  type RedisClient,
  type RedisMode,
  type RedisStoreOptions,
  redact,
} from './options';
export { ReadRouter } from './read-router';
export { createRedisStore, RedisStore, scanPattern } from './redis-store';

/**
 * Options from the extra environment variables this driver reads (config fields win):
 * `REDIS_READ_YOUR_WRITES` (duration), `REDIS_TLS_CA_FILE` (PEM path; turns TLS on).
 */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): RedisStoreOptions {
  const options: RedisStoreOptions = {};
  if (env.REDIS_READ_YOUR_WRITES) {
    const raw = env.REDIS_READ_YOUR_WRITES;
    options.readYourWritesMs = /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  if (env.REDIS_TLS_CA_FILE) {
    try {
      options.tls = { ca: readFileSync(env.REDIS_TLS_CA_FILE) };
    } catch (error) {
      throw new ConfigError(
        `REDIS_TLS_CA_FILE: cannot read '${env.REDIS_TLS_CA_FILE}': ${(error as Error).message}`,
        'REDIS_TLS_CA_FILE',
      );
    }
  }
  return options;
}

/** The `redis` driver for `createCacheManager` (config fields as in `RedisDriverConfig`, plus `RedisStoreOptions`). */
export const larderDriver: DriverFactory<RedisStoreOptions> = (config, context: DriverContext) =>
  createRedisStore({ ...optionsFromEnv(context.env ?? {}), ...config });
