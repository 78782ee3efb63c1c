import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BackendError } from '@larder/core';
import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../src/index';
import { dropTable, makeTable } from './helpers';

// describe() against DynamoDB Local.
describe('DynamoDbStore.describe()', () => {
  let server: DynamoDbLocal;
  let client: DynamoDBClient;
  let table: string;

  beforeAll(async () => {
    server = await startDynamoDbLocal();
    client = new DynamoDBClient({ endpoint: server.endpoint, region: server.region, credentials: server.credentials });
    table = await makeTable(client, 'describe');
  }, 120_000);
  afterAll(async () => {
    if (table) await dropTable(client, table).catch(() => {});
    client?.destroy();
    await server?.stop();
  });

  const storeFor = (name: string) =>
    createDynamoDbStore({
      table: name,
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
    });

  it('reports the table status, billing, item count and TTL attribute, and no credential', async () => {
    const store = storeFor(table);
    try {
      await store.set('describe:k', 'v', 60_000);
      const description = await store.describe();
      const port = new URL(server.endpoint).port;
      expect(description).toMatchObject({
        driver: 'dynamodb',
        topology: { mode: 'table', nodes: [{ address: `127.0.0.1:${port}`, role: 'node', status: 'up' }] },
        table: { name: table, status: 'ACTIVE', ttlStatus: 'ENABLED', ttlAttribute: 'expires_at' },
      });
      expect(description.table?.billingMode).toMatch(/PAY_PER_REQUEST|PROVISIONED/);
      expect(typeof description.table?.itemCount).toBe('number');
      expect(JSON.stringify(description)).not.toContain(server.credentials.secretAccessKey);
    } finally {
      await store.close();
    }
  });

  it('rejects with a BackendError naming the table when it is missing', async () => {
    const store = storeFor('NoSuchTable');
    try {
      const error = await store.describe().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect((error as Error).message).toContain('NoSuchTable');
      expect((error as Error).message).not.toContain(server.credentials.secretAccessKey);
    } finally {
      await store.close();
    }
  });
});
