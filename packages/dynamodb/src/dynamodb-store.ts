import {
  DeleteItemCommand,
  type DeleteItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { StoreDescription } from '@larder/core';
import {
  type CacheStore,
  type Payload,
  type RateLimitReply,
  type RateLimitRequest,
  type StoreCapabilities,
  TickBatcher,
  type TtlMs,
} from '@larder/core/driver';
import { Deadline } from './batch';
import { asLowLevelClient, buildClient } from './client';
import { compareAndSetCommand } from './compare-and-set';
import { ABSENT_OR_EXPIRED, LIVE } from './conditions';
import { ensureTable } from './create-tables';
import { addressOf, describeDynamoDb } from './describe';
import { expiresAtSeconds, nowSeconds } from './expiry';
import { incrementCounter } from './increment';
import { MAX_ITEM_BYTES, MAX_KEY_BYTES, toAttribute } from './item';
import { type DynamoDbStoreOptions, type ResolvedDynamoDbOptions, resolveOptions } from './options';
import { rateLimit } from './rate-limit';
import { secretsOf } from './scrub';
import { DynamoTable, type Item } from './table';
import { bumpTags, tagVersions } from './tags';

// Largest size of the expiry Number (10 digits of epoch seconds -> 6 bytes; 21 digits max).
const EXPIRY_VALUE_BYTES = 12;

/** A `CacheStore` on one DynamoDB table (string partition key, TTL attribute in epoch seconds). */
export class DynamoDbStore implements CacheStore {
  readonly driver = 'dynamodb';
  readonly capabilities: StoreCapabilities;
  /** Resolved options (defaults applied). */
  readonly options: ResolvedDynamoDbOptions;
  /** The client every request goes through (the injected one, or one this store owns). */
  readonly client: DynamoDBClient;
  /** Lists keys under a prefix (Scan of the whole table); present only with `allowClear: true`. */
  readonly keys?: (prefix: string) => AsyncIterable<string>;
  /** Deletes keys under a prefix (Scan + BatchWriteItem); present only with `allowClear: true`. */
  readonly clear?: (prefix: string) => Promise<void>;

  private readonly ownsClient: boolean;
  private readonly table: DynamoTable;
  /** Gets of one tick share one BatchGetItem (a lone key: one GetItem). */
  private readonly batcher: TickBatcher<Item | undefined>;
  /** Resolves when the table is ready (createTable); undefined when nothing to wait for. */
  private ready: Promise<unknown> | undefined;

  constructor(options: DynamoDbStoreOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env) {
    const o = resolveOptions(options, env);
    this.options = o;
    this.ownsClient = !o.client;
    this.client = o.client
      ? asLowLevelClient(o.client)
      : buildClient({
          region: o.region,
          endpoint: o.endpoint,
          credentials: o.credentials,
          maxAttempts: o.maxAttempts,
          requestTimeoutMs: o.timeoutMs,
          connectionTimeoutMs: o.connectionTimeoutMs,
        });
    this.table = new DynamoTable(this.client, o, secretsOf(o.credentials), () =>
      this.ready ? this.whenReady() : undefined,
    );
    const { key, value, expiration } = o.attributes;
    const overhead = Buffer.byteLength(key) + Buffer.byteLength(value) + Buffer.byteLength(expiration);
    this.capabilities = {
      atomicAdd: true,
      ttlPrecisionMs: 1000,
      maxKeyBytes: MAX_KEY_BYTES,
      // Any payload up to this fits with any key up to maxKeyBytes; `set` also checks the exact item size.
      maxValueBytes: MAX_ITEM_BYTES - MAX_KEY_BYTES - overhead - EXPIRY_VALUE_BYTES,
      inProcess: false,
    };
    this.batcher = new TickBatcher({
      readMany: async (keys) => {
        const found = await this.table.fetchItems(keys, new Deadline(o.timeoutMs, 'get'));
        return keys.map((key) => found.get(key));
      },
    });
    if (o.allowClear) {
      this.keys = (prefix) => this.table.scanKeys(prefix);
      this.clear = (prefix) => this.clearPrefix(prefix);
    }
    if (o.createTable) this.ready = this.provision();
  }

  /** Resolves once the table exists (only waits when `createTable` is on); rejects if creating it failed. */
  async whenReady(): Promise<void> {
    const ready = this.ready;
    try {
      await ready;
      if (this.ready === ready) this.ready = undefined;
    } catch (error) {
      // A failed provisioning is retried by the next operation instead of breaking the store for good.
      if (this.ready === ready) this.ready = this.provision();
      throw error;
    }
  }

  private provision(): Promise<unknown> {
    const { table, attributes } = this.options;
    const ready = ensureTable(this.client, { name: table, attributes }, { pollIntervalMs: 200 });
    // Surfaced by the next operation (and by `whenReady`), never as an unhandled rejection.
    ready.catch(() => {});
    return ready;
  }

  /** Returns the payload, or undefined when absent or past its expiry (even if DynamoDB has not deleted it yet). */
  async get(key: string): Promise<Payload | undefined> {
    if (this.ready) await this.whenReady();
    return this.table.payloadOf(await this.batcher.load(key));
  }

  /** Returns payloads aligned with `keys`: BatchGetItem per 100 distinct keys, in parallel. */
  async getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    const found = await this.table.fetchItems([...new Set(keys)], new Deadline(this.options.timeoutMs, 'getMany'));
    return keys.map((key) => this.table.payloadOf(found.get(key)));
  }

  /** Stores the payload (PutItem); no `ttlMs` = no expiry attribute (forever). */
  async set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    await this.table.send(
      new PutItemCommand({ TableName: this.options.table, Item: this.table.item(key, payload, ttlMs) }),
      'set',
    );
  }

  /** Stores every entry with BatchWriteItem (25 per request, in parallel), retrying unprocessed items. */
  async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    const unique = new Map(entries);
    const requests = [...unique].map(
      ([key, payload]): WriteRequest => ({
        PutRequest: { Item: this.table.item(key, payload, ttlMs) },
      }),
    );
    await this.table.batchWrite(requests, new Deadline(this.options.timeoutMs, 'setMany'));
  }

  /** Returns true if a live item was deleted (a conditional DeleteItem; an expired one is left to the TTL sweeper). */
  async delete(key: string): Promise<boolean> {
    return this.table.sendConditional(
      new DeleteItemCommand({
        TableName: this.options.table,
        Key: this.table.keyOf(key),
        ConditionExpression: `attribute_exists(#k) AND ${LIVE}`,
        ExpressionAttributeNames: { '#k': this.table.names['#k']!, '#e': this.table.names['#e']! },
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
      }),
      'delete',
    );
  }

  /**
   * Deletes the keys and returns how many were live. BatchWriteItem cannot say what existed, so
   * the live ones are counted first with a key-only BatchGetItem: 2 round trips, not one per key.
   */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const unique = [...new Set(keys)];
    const deadline = new Deadline(this.options.timeoutMs, 'deleteMany');
    const found = await this.table.fetchItems(unique, deadline, true);
    let live = 0;
    for (const item of found.values()) if (this.table.isLive(item)) live++;
    await this.table.batchWrite(
      unique.map((key) => ({ DeleteRequest: { Key: this.table.keyOf(key) } })),
      deadline,
    );
    return live;
  }

  /** True when the key is present and not expired (a key-only GetItem). This store's own helper: `CacheStore` has no `has`, the facade reads through `get`. */
  async has(key: string): Promise<boolean> {
    const out = await this.table.send<GetItemCommandOutput>(
      new GetItemCommand({
        TableName: this.options.table,
        Key: this.table.keyOf(key),
        ConsistentRead: this.options.consistentRead,
        ProjectionExpression: '#k, #e',
        ExpressionAttributeNames: { '#k': this.table.names['#k']!, '#e': this.table.names['#e']! },
      }),
      'has',
    );
    return out.Item !== undefined && this.table.isLive(out.Item);
  }

  /** Atomic set-if-absent: a PutItem conditioned on the item being missing or expired. */
  async add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    return this.table.sendConditional(
      new PutItemCommand({
        TableName: this.options.table,
        Item: this.table.item(key, payload, ttlMs),
        ConditionExpression: ABSENT_OR_EXPIRED,
        ExpressionAttributeNames: { '#k': this.table.names['#k']!, '#e': this.table.names['#e']! },
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
      }),
      'add',
    );
  }

  /**
   * Atomically adds `delta` and returns the new value: one UpdateItem for a missing or live
   * counter, an expired one is replaced (see increment.ts).
   */
  increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    return incrementCounter(this.table, key, delta, ttlMs);
  }

  /** Tags: counters read, made when missing or expired, extended (never shortened); see tags.ts. */
  tagVersions(keys: readonly string[], starts: readonly number[], ttlMs: TtlMs): Promise<number[]> {
    return tagVersions(this.table, keys, starts, ttlMs);
  }

  /** Tags: `ADD` to each live counter; a missing one stays missing (see tags.ts). */
  bumpTags(keys: readonly string[], delta: number): Promise<void> {
    return bumpTags(this.table, keys, delta);
  }

  /** Deletes and returns the payload in one DeleteItem (ReturnValues ALL_OLD); an expired item gives undefined. */
  async pull(key: string): Promise<Payload | undefined> {
    const out = await this.table.send<DeleteItemCommandOutput>(
      new DeleteItemCommand({ TableName: this.options.table, Key: this.table.keyOf(key), ReturnValues: 'ALL_OLD' }),
      'pull',
    );
    return this.table.payloadOf(out.Attributes);
  }

  /** One UpdateItem that sets (or, with no TTL, removes) only the expiry; false if the key is absent or expired. */
  async touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    const values: Item = { ':now': { N: String(nowSeconds()) } };
    if (ttlMs !== undefined) values[':exp'] = { N: String(expiresAtSeconds(ttlMs)) };
    return this.table.sendConditional(
      new UpdateItemCommand({
        TableName: this.options.table,
        Key: this.table.keyOf(key),
        UpdateExpression: ttlMs === undefined ? 'REMOVE #e' : 'SET #e = :exp',
        ConditionExpression: `attribute_exists(#k) AND ${LIVE}`,
        ExpressionAttributeNames: { '#k': this.table.names['#k']!, '#e': this.table.names['#e']! },
        ExpressionAttributeValues: values,
      }),
      'touch',
    );
  }

  /** Deletes the key only if it is live and its value equals `expected` (lock release). */
  async compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    return this.table.sendConditional(
      new DeleteItemCommand({
        TableName: this.options.table,
        Key: this.table.keyOf(key),
        ConditionExpression: `#v = :expected AND ${LIVE}`,
        ExpressionAttributeNames: { '#v': this.table.names['#v']!, '#e': this.table.names['#e']! },
        ExpressionAttributeValues: { ':expected': toAttribute(expected), ':now': { N: String(nowSeconds()) } },
      }),
      'compareAndDelete',
    );
  }

  /** Stores `payload` only if the live stored value equals `expected` (`undefined` = absent or expired): one conditional PutItem. */
  async compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    const item = this.table.item(key, payload, ttlMs);
    return this.table.sendConditional(
      compareAndSetCommand(this.options.table, item, this.table.names, expected),
      'compareAndSet',
    );
  }

  /** One rate-limit decision: the fixed window as one conditional UpdateItem (see rate-limit.ts). */
  rateLimit(key: string, request: RateLimitRequest): Promise<RateLimitReply> {
    return rateLimit(this.table, key, request);
  }

  /** The endpoint requests go to, `host:port` (traces name it as `server.address`). */
  get address(): string {
    return addressOf(this.options.endpoint, this.options.region);
  }

  /** The table's status, billing and TTL as data; rejects when the table is missing. */
  describe(): Promise<StoreDescription> {
    const { table, endpoint, region } = this.options;
    return describeDynamoDb((command, operation) => this.table.send(command, operation), table, endpoint, region);
  }

  /** Destroys the client if this store created it. */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private async clearPrefix(prefix: string): Promise<void> {
    let page: WriteRequest[] = [];
    const flush = async () => {
      await this.table.batchWrite(page, new Deadline(this.options.timeoutMs, 'clear'));
      page = [];
    };
    for await (const key of this.table.scanKeys(prefix, true)) {
      page.push({ DeleteRequest: { Key: this.table.keyOf(key) } });
      if (page.length >= 250) await flush();
    }
    if (page.length > 0) await flush();
  }
}

/** Creates a DynamoDB store (synchronously; with `createTable` the table is provisioned before the first operation). */
export function createDynamoDbStore(options: DynamoDbStoreOptions = {}): DynamoDbStore {
  return new DynamoDbStore(options);
}
