import type { DriverFactory } from '@larder/core';
import { createMemcachedStore } from './memcached-store';
import type { MemcachedStoreOptions } from './options';

export {
  type ClusterConfig,
  type ClusterNode,
  type ConfigParseResult,
  DiscoveryParseError,
  parseCompleteConfigResponse,
  parseConfigPayload,
  parseConfigResponse,
} from './discovery/parse-config';
export { DiscoveryPoller, NotAConfigEndpointError, type TopologyEvent } from './discovery/poller';
export type { MemcachedDriverConfig } from './env';
export { HashRing, hashKey, POINTS_PER_NODE } from './hash-ring';
export { isValidMemcachedKey, toMemcachedKey } from './keys';
export { createMemcachedStore, MemcachedStore } from './memcached-store';
export type { ConnectionOptions, MemjsServerLike } from './node-connection';
export type { MemcachedStoreOptions } from './options';
export { toExpiration } from './ttl';

/** The `memcached` / `elasticache` driver for the cache manager. */
export const larderDriver: DriverFactory<MemcachedStoreOptions> = async (config, context) => {
  const store = await createMemcachedStore(config);
  store.storeName = context.storeName;
  return store;
};
