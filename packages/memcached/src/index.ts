import { defineDriver } from '@larder/core/driver';
import { larderEnv } from './env';
import { createMemcachedStore } from './memcached-store';
import type { MemcachedStoreOptions } from './options';

// The public surface: the store, its options and config, the driver entry, and the discovery
// client `larder discover` uses. Ring, protocol and connection internals stay internal.
export { DiscoveryPoller, NotAConfigEndpointError, type TopologyEvent } from './discovery/poller';
export type { MemcachedDriverConfig } from './env';
export { larderEnv } from './env';
export { createMemcachedStore, MemcachedStore } from './memcached-store';
export { UnsupportedClientError } from './memjs-internals';
export type { ConnectionOptions, MemjsServerLike } from './node-connection';
export type { MemcachedStoreOptions } from './options';

/** The `memcached` (alias `elasticache`) driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`. */
export const larderDriver = defineDriver(larderEnv, async (config: MemcachedStoreOptions, context) => {
  const store = await createMemcachedStore(config);
  store.storeName = context.storeName;
  return store;
});
