import { defineDriver, envReader } from '@larder/core/driver';
import { larderEnv, redisExtrasFromEnv } from './env';
import type { RedisStoreOptions } from './options';
import { createRedisStore } from './redis-store';

export { busChannel, larderBus } from './bus/bus-source';
export type { RedisDriverConfig } from './env';
export { larderEnv } from './env';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_READ_YOUR_WRITES_MS,
  type RedisClient,
  type RedisMode,
  type RedisStoreOptions,
} from './options';
export { createRedisStore, RedisStore } from './redis-store';

/**
 * The `redis` driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`. Config
 * fields as in `RedisDriverConfig`, plus `RedisStoreOptions`; `REDIS_READ_YOUR_WRITES` and
 * `REDIS_TLS_CA_FILE` apply to stores configured in code too.
 */
export const larderDriver = defineDriver(larderEnv, (config: RedisStoreOptions, context) => {
  const store = createRedisStore({ ...redisExtrasFromEnv(envReader(context.env ?? {})), ...config });
  store.storeName = context.storeName;
  return store;
});
