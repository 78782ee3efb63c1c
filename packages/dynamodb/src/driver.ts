import type { DriverContext } from '@larder/core/driver';
import { DynamoDbStore } from './dynamodb-store';
import type { DynamoDbDriverConfig } from './env';

/**
 * Builds the store of a `dynamodb` config (endpoint and region the config leaves out come from the
 * context's environment); with `createTable: true` it resolves once the table is ready.
 */
export async function storeFromConfig(config: DynamoDbDriverConfig, context: DriverContext): Promise<DynamoDbStore> {
  const store = new DynamoDbStore(config, context.env);
  await store.whenReady();
  return store;
}
