import type { DriverFactory } from '@larder/core/driver';
import { MemoryStore } from './memory-store';
import type { MemoryStoreOptions } from './options';

export type { MemoryDriverConfig } from './env';
export { MemoryStore } from './memory-store';
export type { MemoryStoreOptions, ResolvedMemoryOptions } from './options';

/** Creates an in-process store on lru-cache. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

/** The `memory` driver, as the CacheManager loads it. Facade options (prefix, ttl...) are ignored here. */
export const larderDriver: DriverFactory<MemoryStoreOptions> = (config) => new MemoryStore(config);
