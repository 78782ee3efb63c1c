import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Dynalite, startDynalite } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore, createTables, type DynamoDbStore } from '../src/index';
import { countRequests, type RequestCounter } from './helpers';

// dynalite stops a BatchGetItem response at about 1 MB + one item (~1.4 MB with 400 KB items) and
// returns the rest as UnprocessedKeys, like DynamoDB does at 16 MB: a real test of the retry loop.
let server: Dynalite;
let store: DynamoDbStore;
let requests: RequestCounter;

beforeAll(async () => {
  server = await startDynalite();
  const report = await createTables({
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    tables: [{ name: 'CacheTable' }],
    pollIntervalMs: 20,
  });
  expect(report.tables[0]?.ttl).toBe('unsupported');
  const client = new DynamoDBClient({
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
  });
  requests = countRequests(client);
  store = createDynamoDbStore({ client, table: 'CacheTable', timeout: '30s' });
});

afterAll(async () => {
  store?.client.destroy();
  await server?.stop();
});

describe('unprocessed keys (dynalite)', () => {
  it('getMany retries UnprocessedKeys until every item is read', async () => {
    const big = (i: number) => `${String(i).padStart(4, '0')}${'x'.repeat(350 * 1024)}`;
    const keys = Array.from({ length: 12 }, (_, i) => `big:${i}`);
    await store.setMany(
      keys.map((k, i) => [k, big(i)] as [string, string]),
      60_000,
    );
    requests.reset();
    const values = await store.getMany([...keys, 'big:missing']);
    expect(values.slice(0, 12).map((v) => (v as string).slice(0, 4))).toEqual(
      keys.map((_, i) => String(i).padStart(4, '0')),
    );
    expect(values[12]).toBeUndefined();
    // 12 x 350 KB = 4.2 MB: at most ~4 items per response, so at least 3 requests.
    expect(requests.counts.BatchGetItemCommand).toBeGreaterThanOrEqual(3);
  });

  it('concurrent gets of big items are batched and retried too', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `big:${i}`);
    requests.reset();
    const values = await Promise.all(keys.map((k) => store.get(k)));
    expect(values.every((v) => typeof v === 'string' && v.length > 350 * 1024)).toBe(true);
    expect(requests.counts.BatchGetItemCommand).toBeGreaterThanOrEqual(3);
    expect(Object.keys(requests.counts)).toEqual(['BatchGetItemCommand']);
  });
});
