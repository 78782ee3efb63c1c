// The shape of every driver's index.ts (docs/architecture.md "Where to add things"): the public
// surface, then `larderDriver` from the environment module and the factory in driver.ts. env.ts
// adds the driver's config type to core's `LarderDrivers`.
import { defineDriver } from '@larder/core/driver';
import { storeFromConfig } from './driver';
import { larderEnv } from './env';

export { busChannel, shardChannel } from './bus/bus-shard';
export { larderBus } from './bus/bus-source';
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

/** The `redis` driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`. */
export const larderDriver = defineDriver(larderEnv, storeFromConfig);
