import { Cache } from '@larder/core';
import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { runConformanceSuite } from '@larder/test-suite';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDynamoDbStore, createTables, type DynamoDbStore } from '../src/index';

describe('dynamodb conformance: DynamoDB Local', () => {
  let server: DynamoDbLocal;
  let store: DynamoDbStore;
  beforeAll(async () => {
    server = await startDynamoDbLocal();
    const { endpoint, region, credentials } = server;
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
    // allowClear: the suite's keys/clear groups run (Scan is fine on a test table).
    // timeout: DynamoDB Local serializes writes; 200 concurrent callers on a busy 2-core runner
    // take seconds, which is about the emulator, not the driver. connectionTimeoutMs: the chunked
    // group opens 50+ connections at once; when the emulator's accept queue is full the kernel drops
    // the SYN and resends it after 1 s and 3 s, past the default 3 s (CI failed once that way).
    store = createDynamoDbStore({
      endpoint,
      region,
      credentials,
      allowClear: true,
      timeout: '60s',
      connectionTimeoutMs: 30_000,
    });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  runConformanceSuite({
    name: 'dynamodb (DynamoDB Local)',
    createCache: (prefix, overrides) => new Cache({ store, prefix, timeout: '60s', ...overrides }),
    describe,
    it,
    beforeAll,
    afterAll,
    timeout: 90_000,
  });
});
