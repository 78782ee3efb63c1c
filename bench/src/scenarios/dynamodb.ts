/**
 * DynamoDB: larder (through the `Cache` facade) against raw lib-dynamodb and keyv + @keyv/dynamo
 * 1.2.1, on one DynamoDB Local started here. Every client counts its HTTP requests with an SDK
 * middleware, shown as "requests/op".
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import KeyvDynamo from '@keyv/dynamo';
import { Cache } from '@larder/core';
import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { createDynamoDbStore, createTables, type DynamoDbStore } from '@larder/dynamodb';
import Keyv from 'keyv';
import type { BenchCase, Scenario } from '../harness';
import { VALUE } from '../workload';

const KEYS = 1000;
const MANY = 100;
const FANOUT = 64;

type Subject = 'larder' | 'raw lib-dynamodb' | 'keyv + @keyv/dynamo';

interface Ctx {
  server: DynamoDbLocal;
  store: DynamoDbStore;
  larder: Cache;
  raw: DynamoDBDocumentClient;
  keyvStore: KeyvDynamo;
  keyv: Keyv;
  requests: Record<Subject, number>;
}

/** Counts HTTP requests (one per attempt: the deserialize step runs after the retry middleware). */
function count(client: { middlewareStack: DynamoDBClient['middlewareStack'] }, onRequest: () => void): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      onRequest();
      return next(args);
    },
    { step: 'deserialize', name: 'benchRequestCounter' },
  );
}

const key = (i: number) => `k${i % KEYS}`;
const manyKeys = (i: number) => Array.from({ length: MANY }, (_, j) => key(i * MANY + j));
const fanoutKeys = (i: number) => Array.from({ length: FANOUT }, (_, j) => key(i * FANOUT + j));

async function setup(): Promise<Ctx> {
  const server = await startDynamoDbLocal();
  const { endpoint, region, credentials } = server;
  const requests: Record<Subject, number> = { larder: 0, 'raw lib-dynamodb': 0, 'keyv + @keyv/dynamo': 0 };
  await createTables({
    endpoint,
    region,
    credentials,
    tables: [{ name: 'CacheTable' }, { name: 'RawTable' }],
    pollIntervalMs: 50,
  });
  const larderClient = new DynamoDBClient({ endpoint, region, credentials });
  count(larderClient, () => requests.larder++);
  const store = createDynamoDbStore({ client: larderClient, table: 'CacheTable' });
  const larder = new Cache({ store, prefix: 'larder:' });

  const raw = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region, credentials }));
  count(raw, () => requests['raw lib-dynamodb']++);

  // @keyv/dynamo creates its own table (id / value / expiresAt) on first use.
  const setupClient = new DynamoDBClient({ endpoint, region, credentials });
  await setupClient
    .send(
      new CreateTableCommand({
        TableName: 'keyv',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
    .catch(() => {});
  setupClient.destroy();
  const keyvStore = new KeyvDynamo({ endpoint, region, credentials, tableName: 'keyv' });
  count(keyvStore.client as never, () => requests['keyv + @keyv/dynamo']++);
  const keyv = new Keyv({ store: keyvStore, namespace: 'keyv' });

  const json = JSON.stringify(VALUE);
  await larder.setMany(
    Array.from({ length: KEYS }, (_, i) => [key(i), VALUE] as const),
    '1h',
  );
  for (let i = 0; i < KEYS; i += 25) {
    await Promise.all(
      Array.from({ length: 25 }, (_, j) =>
        raw.send(new PutCommand({ TableName: 'RawTable', Item: { id: key(i + j), value: json } })),
      ),
    );
    await Promise.all(Array.from({ length: 25 }, (_, j) => keyv.set(key(i + j), VALUE, 3_600_000)));
  }
  return { server, store, larder, raw, keyvStore, keyv, requests };
}

async function rawGet(c: Ctx, k: string): Promise<unknown> {
  const out = await c.raw.send(new GetCommand({ TableName: 'RawTable', Key: { id: k } }));
  return out.Item ? JSON.parse(out.Item.value as string) : undefined;
}

async function rawGetMany(c: Ctx, keys: string[]): Promise<unknown[]> {
  const out = await c.raw.send(
    new BatchGetCommand({ RequestItems: { RawTable: { Keys: [...new Set(keys)].map((id) => ({ id })) } } }),
  );
  const found = new Map((out.Responses?.RawTable ?? []).map((item) => [item.id as string, item.value as string]));
  return keys.map((k) => {
    const v = found.get(k);
    return v === undefined ? undefined : JSON.parse(v);
  });
}

function cases(): BenchCase<Ctx>[] {
  const op = (
    name: string,
    larder: BenchCase<Ctx>['run'],
    raw: BenchCase<Ctx>['run'],
    keyv: BenchCase<Ctx>['run'],
    concurrency?: number,
  ) =>
    [
      { op: name, subject: 'larder', run: larder, concurrency },
      { op: name, subject: 'raw lib-dynamodb', run: raw, concurrency },
      { op: name, subject: 'keyv + @keyv/dynamo', run: keyv, concurrency },
    ] as BenchCase<Ctx>[];
  return [
    ...op(
      'get (hit)',
      (c, i) => c.larder.get(key(i)),
      (c, i) => rawGet(c, key(i)),
      (c, i) => c.keyv.get(key(i)),
    ),
    ...op(
      'set (1h TTL)',
      (c, i) => c.larder.set(key(i), VALUE, '1h'),
      (c, i) =>
        c.raw.send(
          new PutCommand({
            TableName: 'RawTable',
            Item: { id: key(i), value: JSON.stringify(VALUE), expires_at: Math.ceil(Date.now() / 1000) + 3600 },
          }),
        ),
      (c, i) => c.keyv.set(key(i), VALUE, 3_600_000),
    ),
    ...op(
      `getMany(${MANY})`,
      (c, i) => c.larder.getMany(manyKeys(i)),
      (c, i) => rawGetMany(c, manyKeys(i)),
      (c, i) => c.keyv.getMany(manyKeys(i)),
    ),
    ...op(
      `${FANOUT} concurrent gets (Promise.all)`,
      (c, i) => Promise.all(fanoutKeys(i).map((k) => c.larder.get(k))),
      (c, i) => Promise.all(fanoutKeys(i).map((k) => rawGet(c, k))),
      (c, i) => Promise.all(fanoutKeys(i).map((k) => c.keyv.get(k))),
    ),
  ];
}

/** The DynamoDB scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'dynamodb',
  description:
    'get/set of a ~200-byte JSON value, getMany(100) and 64 concurrent gets, one DynamoDB Local on loopback; larder through the Cache facade.',
  baseline: 'raw lib-dynamodb',
  setup,
  cases,
  async teardown(ctx) {
    await ctx.store.close();
    ctx.store.client.destroy();
    ctx.raw.destroy();
    ctx.keyvStore.client.destroy();
    await ctx.server.stop();
  },
  counters: [
    {
      name: 'HTTP requests/op',
      read: (ctx, benchCase) => ctx.requests[benchCase.subject as Subject],
    },
  ],
  notes: [
    'DynamoDB Local is a JVM + SQLite emulator: absolute numbers say little about AWS; the requests/op column does.',
    `larder coalesces the gets of one event-loop turn into one BatchGetItem (target: ${FANOUT} concurrent gets in ≤ 2 requests).`,
    'raw lib-dynamodb: GetCommand / one BatchGetCommand (no retry of UnprocessedKeys), JSON.parse of the value.',
    '@keyv/dynamo 1.2.1 getMany sends one BatchGetItem without chunking (fails above 100 keys) or UnprocessedKeys retry.',
  ],
};
