import type { DriverFactory } from '@larder/core/driver';
import { DynamoDbStore } from './dynamodb-store';
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
export { MAX_ITEM_BYTES, MAX_KEY_BYTES } from './item';
export {
  DEFAULT_ATTRIBUTES,
  type DynamoDbAttributes,
  type DynamoDbCredentials,
  type DynamoDbStoreOptions,
  type ResolvedDynamoDbOptions,
} from './options';

/** The manager's factory for `driver: 'dynamodb'`; with `createTable: true` it resolves once the table is ready. */
export const larderDriver: DriverFactory<DynamoDbStoreOptions> = async (config, context) => {
  const store = new DynamoDbStore(config, context.env);
  await store.whenReady();
  return store;
};
