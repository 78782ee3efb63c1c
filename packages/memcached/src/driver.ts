import type { DriverContext } from '@larder/core/driver';
import type { MemcachedDriverConfig } from './env';
import { createMemcachedStore, type MemcachedStore } from './memcached-store';

/** Builds the store of a `memcached` (or `elasticache`) config; it resolves once the first node list is known. */
export async function storeFromConfig(config: MemcachedDriverConfig, context: DriverContext): Promise<MemcachedStore> {
  const store = await createMemcachedStore(config);
  store.storeName = context.storeName;
  return store;
}
