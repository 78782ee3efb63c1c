// The shape of every driver's index.ts (docs/architecture.md "Where to add things"): the public
// surface, then `larderDriver` from the environment module and the factory in driver.ts. env.ts
// adds the driver's config type to core's `LarderDrivers`.
import { defineDriver } from '@larder/core/driver';
import { storeFromConfig } from './driver';
import { larderEnv } from './env';

export { createMemoryStore } from './driver';
export type { MemoryDriverConfig } from './env';
export { larderEnv } from './env';
export { MemoryStore } from './memory-store';
export type { MemoryStoreOptions, ResolvedMemoryOptions } from './options';

/** The `memory` driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`. */
export const larderDriver = defineDriver(larderEnv, storeFromConfig);
