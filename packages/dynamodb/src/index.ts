import { defineDriver } from '@larder/core/driver';
import { DynamoDbStore } from './dynamodb-store';
import { larderEnv } from './env';
import type { DynamoDbStoreOptions } from './options';

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

/**
 * The `dynamodb` driver: what `createCacheManager` loads by name, or takes in `drivers: [...]`; with
 * `createTable: true` the store resolves once the table is ready.
 */
export const larderDriver = defineDriver(larderEnv, async (config: DynamoDbStoreOptions, context) => {
  const store = new DynamoDbStore(config, context.env);
  await store.whenReady();
  return store;
});
