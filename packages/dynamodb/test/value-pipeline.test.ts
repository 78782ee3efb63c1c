import { randomBytes } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { Cache } from '@larder/core';
import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore, createTables, type DynamoDbStore } from '../src/index';

// The value pipeline on DynamoDB Local: compressed and encrypted payloads are binary attributes
// (B), never base64 text (S) (core README "Values").
describe('dynamodb: the value pipeline stores raw bytes', () => {
  let server: DynamoDbLocal;
  let store: DynamoDbStore;
  let client: DynamoDBClient;
  beforeAll(async () => {
    server = await startDynamoDbLocal();
    const { endpoint, region, credentials } = server;
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
    store = createDynamoDbStore({ endpoint, region, credentials, timeout: '30s' });
    client = new DynamoDBClient({ endpoint, region, credentials });
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await store?.close();
    await server?.stop();
  });

  const raw = async (id: string) =>
    (await client.send(new GetItemCommand({ TableName: 'CacheTable', Key: { id: { S: id } } }))).Item?.value;

  it('a compressed and encrypted value is a B attribute, smaller than its JSON, and reads back', async () => {
    const cache = new Cache({
      store,
      prefix: 'vp:',
      timeout: '30s',
      compress: { algorithm: 'gzip' },
      encrypt: { keys: [{ id: 'k1', key: randomBytes(32) }] },
    });
    const value = { rows: Array.from({ length: 500 }, (_, i) => ({ id: i, name: `customer ${i}`, city: 'Lyon' })) };
    await cache.set('report', value, '1h');
    const attribute = await raw('vp:report');
    expect(attribute?.S).toBeUndefined();
    expect(attribute?.B).toBeInstanceOf(Uint8Array);
    const bytes = attribute?.B ?? new Uint8Array();
    expect(bytes.byteLength).toBeLessThan(JSON.stringify(value).length / 3);
    expect(await cache.get('report')).toEqual(value);
    // Uncompressible small values stay as they were: text.
    const plain = new Cache({ store, prefix: 'vp:', timeout: '30s', compress: { algorithm: 'gzip' } });
    await plain.set('small', 'hello');
    // The JSON codec's text with its metadata header (`\u0001<written>,<expiry>\u0001`).
    const text = (await raw('vp:small'))?.S ?? '';
    expect(text.startsWith('\u0001')).toBe(true);
    expect(text.endsWith('\u0001"hello"')).toBe(true);
  });
});
