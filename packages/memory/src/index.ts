import { defineDriver } from '@larder/core/driver';
import { larderEnv } from './env';
import { MemoryStore } from './memory-store';
import type { MemoryStoreOptions } from './options';

export type { MemoryDriverConfig } from './env';
export { MemoryStore } from './memory-store';
export type { MemoryStoreOptions, ResolvedMemoryOptions } from './options';

/** Creates an in-process store on lru-cache. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

export { larderEnv } from './env';

/**
 * The `memory` driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`.
 * Facade options (prefix, ttl...) are the Cache's, not the store's.
 */
export const larderDriver = defineDriver(larderEnv, (config: MemoryStoreOptions) => new MemoryStore(config));
