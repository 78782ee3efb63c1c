// The shape of every driver's index.ts (docs/architecture.md "Where to add things"): the public
// surface, then `larderDriver` from the environment module and the factory in driver.ts. env.ts
// adds the driver's config type to core's `LarderDrivers`. Table set-up is public for `larder dynamodb`.
import { defineDriver } from '@larder/core/driver';
import { storeFromConfig } from './driver';
import { larderEnv } from './env';

export {
  type CreateTablesOptions,
  type CreateTablesReport,
  createTables,
  type EnsureTableOptions,
  ensureTable,
  type ProgressEvent,
  type ProgressPhase,
  type TableReport,
  type TableSpec,
} from './create-tables';
export { createDynamoDbStore, DynamoDbStore } from './dynamodb-store';
export type { DynamoDbDriverConfig } from './env';
export { larderEnv } from './env';
export { MAX_ITEM_BYTES, MAX_KEY_BYTES } from './item';
export {
  DEFAULT_ATTRIBUTES,
  type DynamoDbAttributes,
  type DynamoDbCredentials,
  type DynamoDbStoreOptions,
  type ResolvedDynamoDbOptions,
} from './options';

/** The `dynamodb` driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`. */
export const larderDriver = defineDriver(larderEnv, storeFromConfig);
