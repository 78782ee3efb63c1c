// The shape of every driver's index.ts (docs/architecture.md "Where to add things"): the public
// surface, then `larderDriver` from the environment module and the factory in driver.ts. env.ts
// adds the driver's config type to core's `LarderDrivers`. Ring, protocol and connection
// internals stay internal; the discovery client is public for `larder discover`.
import { defineDriver } from '@larder/core/driver';
import { storeFromConfig } from './driver';
import { larderEnv } from './env';

export { DiscoveryPoller, NotAConfigEndpointError, type TopologyEvent } from './discovery/poller';
export type { MemcachedDriverConfig } from './env';
export { larderEnv } from './env';
export { createMemcachedStore, MemcachedStore } from './memcached-store';
export { UnsupportedClientError } from './memjs-internals';
export type { ConnectionOptions, MemjsServerLike } from './node-connection';
export type { MemcachedStoreOptions } from './options';

/** The `memcached` (alias `elasticache`) driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`. */
export const larderDriver = defineDriver(larderEnv, storeFromConfig);
