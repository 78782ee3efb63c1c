import { type DriverContext, type DriverFactory, envReader } from '@larder/core/driver';
import { redisExtrasFromEnv } from './env';
import type { RedisStoreOptions } from './options';
import { createRedisStore } from './redis-store';

export { busChannel, larderBus } from './bus/bus-source';
export type { RedisDriverConfig } from './env';
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

/** The `redis` driver for `createCacheManager` (config fields as in `RedisDriverConfig`, plus `RedisStoreOptions`). */
export const larderDriver: DriverFactory<RedisStoreOptions> = (config, context: DriverContext) => {
  const store = createRedisStore({ ...redisExtrasFromEnv(envReader(context.env ?? {})), ...config });
  store.storeName = context.storeName;
  return store;
};
