import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { createTables } from '@larder/dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { forkInstances, type Instances, instanceScenarios } from './session-instances';

describe('sessions across two app processes on DynamoDB Local', () => {
  let server: DynamoDbLocal;
  let instances: Instances;
  beforeAll(async () => {
    server = await startDynamoDbLocal();
    const { endpoint, region, credentials } = server;
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
    instances = await forkInstances({
      driver: 'dynamodb',
      prefix: `inst-${process.pid}:`,
      dynamodb: { endpoint, region, credentials },
    });
  }, 60_000);
  afterAll(async () => {
    await instances?.stop();
    await server?.stop();
  });
  // DynamoDB Local serializes writes on a busy 2-core runner: each scenario gets more time.
  instanceScenarios(() => instances, 60_000);
});
