import type { DriverContext } from '@larder/core/driver';
import type { MemoryDriverConfig } from './env';
import { MemoryStore } from './memory-store';
import type { MemoryStoreOptions } from './options';

/** Creates an in-process store on lru-cache. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}

/** Builds the store of a `memory` config (the facade options are the Cache's; a custom `codec` selects codec mode). */
export function storeFromConfig(config: MemoryDriverConfig, _context: DriverContext): MemoryStore {
  return new MemoryStore(config);
}
