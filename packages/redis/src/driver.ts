import { type DriverContext, envReader } from '@larder/core/driver';
import { type RedisDriverConfig, redisExtrasFromEnv } from './env';
import { createRedisStore, type RedisStore } from './redis-store';

/**
 * Builds the store of a `redis` config. `REDIS_READ_YOUR_WRITES` and `REDIS_TLS_CA_FILE` apply to
 * stores configured in code too (the config's fields win).
 */
export function storeFromConfig(config: RedisDriverConfig, context: DriverContext): RedisStore {
  const store = createRedisStore({ ...redisExtrasFromEnv(envReader(context.env ?? {})), ...config });
  store.storeName = context.storeName;
  return store;
}
