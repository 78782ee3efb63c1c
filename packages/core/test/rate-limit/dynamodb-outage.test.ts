import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { createDynamoDbStore, createTables } from '@larder/dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { Cache } from '../../src/cache/cache';
import { outageScenarios, TIMEOUT_MS } from './outage';

// DynamoDB Local is not restarted after the kill (a JVM start takes seconds): the kill runs last.
describe('rate limits with DynamoDB Local down', () => {
  let server: DynamoDbLocal;
  beforeAll(async () => {
    server = await startDynamoDbLocal();
    const { endpoint, region, credentials } = server;
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
    // DynamoDB Local's first requests are slow (a cold JVM): warm it before the 300 ms timeouts.
    const warm = new Cache({ store: createDynamoDbStore({ endpoint, region, credentials }), timeout: '30s' });
    const limiter = warm.rateLimiter({ limit: 100, window: '1m' });
    for (let i = 0; i < 20; i++) await limiter.hit('warm-up');
    await warm.close();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  outageScenarios(() => ({
    cache: () =>
      new Cache({
        store: createDynamoDbStore({
          endpoint: server.endpoint,
          region: server.region,
          credentials: server.credentials,
        }),
        prefix: 'down:',
        timeout: TIMEOUT_MS,
      }),
    pid: () => server.pid as number,
    kill: () => server.process.kill(),
  }));
});
