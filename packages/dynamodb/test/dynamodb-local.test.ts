import { DescribeTimeToLiveCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Cache, ConfigError, createCacheManager, UnsupportedOperationError, ValueTooLargeError } from '@larder/core';
import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore, createTables, type DynamoDbStore, type ProgressEvent } from '../src/index';
import { countRequests, dropTable, makeTable, type RequestCounter, tableName } from './helpers';

// One DynamoDB Local (a JVM: slow to start) for the whole file.
let server: DynamoDbLocal;
let client: DynamoDBClient;
let table: string;
let store: DynamoDbStore;
let requests: RequestCounter;
const past = () => Math.floor(Date.now() / 1000) - 60;

beforeAll(async () => {
  server = await startDynamoDbLocal();
  client = new DynamoDBClient({ endpoint: server.endpoint, region: server.region, credentials: server.credentials });
  table = await makeTable(client, 'main');
  const own = new DynamoDBClient({ endpoint: server.endpoint, region: server.region, credentials: server.credentials });
  requests = countRequests(own);
  store = createDynamoDbStore({ client: own, table });
}, 120_000);

afterAll(async () => {
  await store?.close();
  store?.client.destroy();
  client?.destroy();
  await server?.stop();
});

/** Writes an item the way DynamoDB keeps it after expiry: still there, expiry in the past. */
async function putExpired(key: string, value: { S: string } | { N: string } = { S: '"stale"' }) {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: { id: { S: key }, value, expires_at: { N: String(past()) } },
    }),
  );
}

describe('expired items DynamoDB has not deleted yet', () => {
  it('are never returned by get/getMany/has/pull and never revived', async () => {
    await putExpired('exp:get');
    expect(await store.get('exp:get')).toBeUndefined();
    expect(await store.getMany(['exp:get', 'exp:get'])).toEqual([undefined, undefined]);
    expect(await store.has('exp:get')).toBe(false);
    expect(await store.touch('exp:get', 60_000)).toBe(false);
    expect(await store.delete('exp:get')).toBe(false);
    expect(await store.compareAndDelete('exp:get', '"stale"')).toBe(false);
    expect(await store.pull('exp:get')).toBeUndefined();
  });

  it('add treats them as absent', async () => {
    await putExpired('exp:add');
    expect(await store.add('exp:add', '"fresh"', 60_000)).toBe(true);
    expect(await store.get('exp:add')).toBe('"fresh"');
    expect(await store.add('exp:add', '"again"', 60_000)).toBe(false);
  });

  it('increment restarts an expired counter at 0 with a fresh expiry (no revival of the old value)', async () => {
    await putExpired('exp:inc', { N: '100' });
    expect(await store.increment('exp:inc', 5, 60_000)).toBe(5);
    expect(await store.get('exp:inc')).toBe('5');
    const raw = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'exp:inc' } } }));
    expect(Number(raw.Item?.expires_at?.N)).toBeGreaterThan(Date.now() / 1000 + 50);
    // Without a TTL the restarted counter has no expiry at all.
    await putExpired('exp:inc2', { N: '7' });
    expect(await store.increment('exp:inc2', 1, undefined)).toBe(1);
    const raw2 = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'exp:inc2' } } }));
    expect(raw2.Item?.expires_at).toBeUndefined();
  });
});

describe('operations', () => {
  it('round-trips text, bytes and counters with their DynamoDB types', async () => {
    await store.set('t:s', '{"a":1}', 60_000);
    await store.set('t:b', new Uint8Array([0, 255, 1]), undefined);
    await store.set('t:n', '42', undefined);
    const raw = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 't:n' } } }));
    expect(raw.Item?.value).toEqual({ N: '42' });
    expect(raw.Item?.expires_at).toBeUndefined();
    expect(await store.get('t:s')).toBe('{"a":1}');
    expect(Buffer.from((await store.get('t:b')) as Uint8Array)).toEqual(Buffer.from([0, 255, 1]));
    expect(await store.increment('t:n', -2, undefined)).toBe(40);
    expect(await store.get('t:n')).toBe('40');
  });

  it('increment keeps the expiry of a live counter and rejects non-integers', async () => {
    await store.set('inc:live', '1', 120_000);
    const before = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'inc:live' } } }));
    expect(await store.increment('inc:live', 1, 5_000)).toBe(2);
    const after = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'inc:live' } } }));
    expect(after.Item?.expires_at).toEqual(before.Item?.expires_at);
    // A live counter without expiry stays without expiry when incremented with a TTL.
    await store.set('inc:forever', '10', undefined);
    expect(await store.increment('inc:forever', 5, 60_000)).toBe(15);
    const forever = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'inc:forever' } } }));
    expect(forever.Item?.expires_at).toBeUndefined();
    await store.set('inc:text', '"abc"', undefined);
    await expect(store.increment('inc:text', 1, undefined)).rejects.toMatchObject({ code: 'E_BACKEND' });
  });

  it('touch sets or removes only the expiry', async () => {
    await store.set('touch:a', '"v"', 60_000);
    expect(await store.touch('touch:a', 3_600_000)).toBe(true);
    let raw = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'touch:a' } } }));
    expect(Number(raw.Item?.expires_at?.N)).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(raw.Item?.value).toEqual({ S: '"v"' });
    expect(await store.touch('touch:a', undefined)).toBe(true);
    raw = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'touch:a' } } }));
    expect(raw.Item?.expires_at).toBeUndefined();
    expect(await store.touch('touch:missing', 1000)).toBe(false);
  });

  it('setMany / deleteMany dedupe and count only live items', async () => {
    const entries: [string, string][] = Array.from({ length: 60 }, (_, i) => [`sm:${i}`, `"v${i}"`]);
    await store.setMany([...entries, ['sm:0', '"last"']], 60_000);
    expect(await store.get('sm:0')).toBe('"last"');
    expect(await store.get('sm:59')).toBe('"v59"');
    await putExpired('sm:expired');
    const keys = [...entries.map(([k]) => k), 'sm:expired', 'sm:missing', 'sm:1'];
    expect(await store.deleteMany(keys)).toBe(60);
    expect(await store.getMany(['sm:0', 'sm:59', 'sm:expired'])).toEqual([undefined, undefined, undefined]);
  });

  it('rejects an item over 400 KB before sending, and accepts one just under', async () => {
    requests.reset();
    const key = 'big:1';
    await expect(store.set(key, 'x'.repeat(400 * 1024), undefined)).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(store.set(key, new Uint8Array(400 * 1024), 1000)).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(requests.total()).toBe(0);
    const fits = 400 * 1024 - 'id'.length - key.length - 'value'.length - 'expires_at'.length - 6;
    await store.set(key, 'y'.repeat(fits), 60_000);
    expect(((await store.get(key)) as string).length).toBe(fits);
    expect(store.capabilities.maxValueBytes).toBeLessThan(400 * 1024);
  });

  it('works with an injected DynamoDBDocumentClient', async () => {
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: server.endpoint, region: server.region, credentials: server.credentials }),
    );
    const s = createDynamoDbStore({ client: doc, table });
    await s.set('doc:1', new Uint8Array([1, 2]), 60_000);
    expect(Buffer.from((await s.get('doc:1')) as Uint8Array)).toEqual(Buffer.from([1, 2]));
    expect(await s.increment('doc:n', 3, undefined)).toBe(3);
    doc.destroy();
  });
});

// add and increment without TTL under 200 callers are in the conformance suite (conformance.test.ts);
// these are the DynamoDB-specific paths: a counter created with a TTL, and an expired counter.
describe('atomicity under 200 concurrent callers', () => {
  // DynamoDB Local serializes writes (SQLite) and is slow on a busy 2-core runner: this is about
  // atomicity, not latency, so these callers get a generous time budget.
  let racer: DynamoDbStore;
  beforeAll(() => {
    racer = createDynamoDbStore({
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      table,
      timeout: '60s',
      connectionTimeoutMs: 20_000,
    });
  });
  afterAll(() => racer.close());

  it('increment with a TTL on a missing key: every value 1..200 handed out once', { timeout: 90_000 }, async () => {
    const values = await Promise.all(Array.from({ length: 200 }, () => racer.increment('race:inc', 1, 60_000)));
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await store.get('race:inc')).toBe('200');
  });

  it('increment on an expired key: restarts at 0, no old value leaks', { timeout: 90_000 }, async () => {
    await putExpired('race:inc-exp', { N: '1000' });
    const values = await Promise.all(Array.from({ length: 200 }, () => racer.increment('race:inc-exp', 1, 60_000)));
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await store.get('race:inc-exp')).toBe('200');
  });
});

describe('request counts', () => {
  it('getMany of 250 distinct keys (missing, expired, duplicated) = 3 BatchGetItem requests, correct result', async () => {
    const keys = Array.from({ length: 250 }, (_, i) => `gm:${i}`);
    await store.setMany(
      keys.filter((_, i) => i % 3 === 0).map((k) => [k, `"${k}"`] as [string, string]),
      60_000,
    );
    for (const i of [1, 4, 7, 10, 13]) await putExpired(keys[i]!);
    const asked = [...keys, ...keys.slice(0, 20)];
    requests.reset();
    const values = await store.getMany(asked);
    expect(requests.counts).toEqual({ BatchGetItemCommand: 3 });
    expect(values).toHaveLength(asked.length);
    asked.forEach((key, i) => {
      const n = Number(key.slice(3));
      expect(values[i]).toBe(n % 3 === 0 ? `"${key}"` : undefined);
    });
  });

  it('touch = 1 UpdateItem', async () => {
    await store.set('rc:touch', '"v"', 60_000);
    requests.reset();
    expect(await store.touch('rc:touch', 120_000)).toBe(true);
    expect(requests.counts).toEqual({ UpdateItemCommand: 1 });
  });

  it('64 concurrent gets = 1 BatchGetItem request', async () => {
    const keys = Array.from({ length: 64 }, (_, i) => `rc:g${i}`);
    await store.setMany(
      keys.map((k) => [k, `"${k}"`] as [string, string]),
      60_000,
    );
    requests.reset();
    const values = await Promise.all(keys.map((k) => store.get(k)));
    expect(values).toEqual(keys.map((k) => `"${k}"`));
    expect(requests.total()).toBeLessThanOrEqual(2);
    expect(requests.counts).toEqual({ BatchGetItemCommand: 1 });
  });

  it('64 concurrent cache.get through the facade = 1 BatchGetItem request', async () => {
    const cache = new Cache({ store, prefix: 'facade:' });
    const keys = Array.from({ length: 64 }, (_, i) => `u${i}`);
    await cache.setMany(
      keys.map((k) => [k, { id: k }] as const),
      '1m',
    );
    requests.reset();
    const values = await Promise.all(keys.map((k) => cache.get(k)));
    expect(values).toEqual(keys.map((k) => ({ id: k })));
    expect(requests.counts).toEqual({ BatchGetItemCommand: 1 });
  });

  it('increment of a missing or live counter = 1 UpdateItem; set/add/pull/delete = 1 request each', async () => {
    await store.set('rc:n', '1', 60_000);
    requests.reset();
    expect(await store.increment('rc:n', 1, 1000)).toBe(2);
    expect(await store.increment('rc:new', 4, 1000)).toBe(4);
    expect(await store.increment('rc:new2', 4, undefined)).toBe(4);
    await store.add('rc:a', '"x"', 1000);
    await store.pull('rc:a');
    await store.delete('rc:n');
    expect(requests.counts).toEqual({ UpdateItemCommand: 3, PutItemCommand: 1, DeleteItemCommand: 2 });
  });
});

describe('createTables', () => {
  it('is idempotent, reports progress and leaves TTL enabled', async () => {
    const name = tableName('ct');
    const events: ProgressEvent[] = [];
    const first = await createTables({
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      tables: [{ name }, { name: `${name}_s`, attributes: { key: 'sid', expiration: 'ttl' } }],
      onProgress: (e) => events.push(e),
      pollIntervalMs: 50,
    });
    expect(first.tables.map((t) => [t.created, t.ttl])).toEqual([
      [true, 'enabled'],
      [true, 'enabled'],
    ]);
    expect(events.map((e) => e.phase)).toContain('active');
    const second = await createTables({
      client,
      tables: [{ name }, { name: `${name}_s`, attributes: { key: 'sid', expiration: 'ttl' } }],
    });
    expect(second.tables.map((t) => [t.created, t.ttl])).toEqual([
      [false, 'already-enabled'],
      [false, 'already-enabled'],
    ]);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: `${name}_s` }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' });
    await dropTable(client, name);
    await dropTable(client, `${name}_s`);
  });

  it('refuses a table whose key schema does not match', async () => {
    const name = tableName('ks');
    await createTables({ client, tables: [{ name, attributes: { key: 'pk' } }] });
    await expect(createTables({ client, tables: [{ name }] })).rejects.toBeInstanceOf(ConfigError);
    await dropTable(client, name);
  });

  it('createTable: true provisions the table before the first operation', async () => {
    const name = tableName('auto');
    const s = createDynamoDbStore({
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      table: name,
      createTable: true,
    });
    await s.set('k', '"v"', 60_000);
    expect(await s.get('k')).toBe('"v"');
    await s.close();
    expect(() => createDynamoDbStore({ table: name, createTable: true, client } as never)).not.toThrow();
    await dropTable(client, name);
  });
});

describe('manager', () => {
  it('loads the driver by name and serves a Cache', async () => {
    const caches = createCacheManager({
      default: 'dynamodb',
      stores: {
        dynamodb: {
          driver: 'dynamodb',
          table,
          endpoint: server.endpoint,
          region: server.region,
          credentials: server.credentials,
        },
      },
    });
    const cache = caches.store();
    await cache.set('manager:user', { name: 'Ada' }, '1m');
    expect(await cache.get('manager:user')).toEqual({ name: 'Ada' });
    expect(await cache.increment('manager:n', 2)).toBe(2);
    expect(await cache.get('manager:n')).toBe(2);
    await caches.close();
  });

  it('keys/clear are off unless allowClear (Scan of the whole table)', async () => {
    expect(store.keys).toBeUndefined();
    expect(store.clear).toBeUndefined();
    await expect(new Cache({ store, prefix: 'nc:' }).clear()).rejects.toBeInstanceOf(UnsupportedOperationError);
  });
});
