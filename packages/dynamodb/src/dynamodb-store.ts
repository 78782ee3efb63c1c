import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  DeleteItemCommand,
  type DeleteItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  BackendError,
  type CacheStore,
  type Payload,
  type StoreCapabilities,
  type StoreDescription,
  type TtlMs,
  ValueTooLargeError,
} from '@larder/core';
import { BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, chunk, Deadline, untilProcessed } from './batch';
import { asLowLevelClient, buildClient } from './client';
import { compareAndSetCommand } from './compare-and-set';
import { ensureTable } from './create-tables';
import { describeDynamoDb } from './describe';
import { isConditionFailure, toLarderError } from './errors';
import { expiresAtSeconds, isExpired, nowSeconds } from './expiry';
import { GetBatcher } from './get-batcher';
import { attributeBytes, fromAttribute, itemBytes, MAX_ITEM_BYTES, MAX_KEY_BYTES, toAttribute } from './item';
import { type DynamoDbStoreOptions, type ResolvedDynamoDbOptions, resolveOptions } from './options';
import { secretsOf } from './scrub';

type Item = Record<string, AttributeValue>;

// Expression names used in every condition: #k key, #v value, #e expiry.
const LIVE = '(attribute_not_exists(#e) OR #e > :now)';
const ABSENT_OR_EXPIRED = 'attribute_not_exists(#k) OR #e <= :now';
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
  /** AWS keys, scrubbed from every wrapped error. */
  private readonly secrets: string[];
  private readonly names: Record<string, string>;
  private readonly batcher: GetBatcher<Item>;
  /** Resolves when the table is ready (createTable); undefined when nothing to wait for. */
  private ready: Promise<unknown> | undefined;

  constructor(options: DynamoDbStoreOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env) {
    const o = resolveOptions(options, env);
    this.options = o;
    this.secrets = secretsOf(o.credentials);
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
    const { key, value, expiration } = o.attributes;
    this.names = { '#k': key, '#v': value, '#e': expiration };
    const overhead = Buffer.byteLength(key) + Buffer.byteLength(value) + Buffer.byteLength(expiration);
    this.capabilities = {
      batch: true,
      atomicAdd: true,
      increment: true,
      locks: true,
      enumerate: o.allowClear,
      clear: o.allowClear,
      ttlPrecisionMs: 1000,
      maxKeyBytes: MAX_KEY_BYTES,
      // Any payload up to this fits with any key up to maxKeyBytes; `set` also checks the exact item size.
      maxValueBytes: MAX_ITEM_BYTES - MAX_KEY_BYTES - overhead - EXPIRY_VALUE_BYTES,
      readReplicas: false,
      inProcess: false,
      compareAndSet: true,
    };
    this.batcher = new GetBatcher((keys) => this.fetchItems(keys, new Deadline(o.timeoutMs, 'get')));
    if (o.allowClear) {
      this.keys = (prefix) => this.scanKeys(prefix);
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
    return this.payloadOf(await this.batcher.load(key));
  }

  /** Returns payloads aligned with `keys`: BatchGetItem per 100 distinct keys, in parallel. */
  async getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    const found = await this.fetchItems([...new Set(keys)], new Deadline(this.options.timeoutMs, 'getMany'));
    return keys.map((key) => this.payloadOf(found.get(key)));
  }

  /** Stores the payload (PutItem); no `ttlMs` = no expiry attribute (forever). */
  async set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    await this.send(new PutItemCommand({ TableName: this.options.table, Item: this.item(key, payload, ttlMs) }), 'set');
  }

  /** Stores every entry with BatchWriteItem (25 per request, in parallel), retrying unprocessed items. */
  async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    const unique = new Map(entries);
    const requests = [...unique].map(
      ([key, payload]): WriteRequest => ({
        PutRequest: { Item: this.item(key, payload, ttlMs) },
      }),
    );
    await this.batchWrite(requests, new Deadline(this.options.timeoutMs, 'setMany'));
  }

  /** Returns true if a live item was deleted (a conditional DeleteItem; an expired one is left to the TTL sweeper). */
  async delete(key: string): Promise<boolean> {
    return this.sendConditional(
      new DeleteItemCommand({
        TableName: this.options.table,
        Key: this.keyOf(key),
        ConditionExpression: `attribute_exists(#k) AND ${LIVE}`,
        ExpressionAttributeNames: { '#k': this.names['#k']!, '#e': this.names['#e']! },
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
    const found = await this.fetchItems(unique, deadline, true);
    let live = 0;
    for (const item of found.values()) if (this.isLive(item)) live++;
    await this.batchWrite(
      unique.map((key) => ({ DeleteRequest: { Key: this.keyOf(key) } })),
      deadline,
    );
    return live;
  }

  /** True when the key is present and not expired (a key-only GetItem). */
  async has(key: string): Promise<boolean> {
    const out = await this.send<GetItemCommandOutput>(
      new GetItemCommand({
        TableName: this.options.table,
        Key: this.keyOf(key),
        ConsistentRead: this.options.consistentRead,
        ProjectionExpression: '#k, #e',
        ExpressionAttributeNames: { '#k': this.names['#k']!, '#e': this.names['#e']! },
      }),
      'has',
    );
    return out.Item !== undefined && this.isLive(out.Item);
  }

  /** Atomic set-if-absent: a PutItem conditioned on the item being missing or expired. */
  async add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    return this.sendConditional(
      new PutItemCommand({
        TableName: this.options.table,
        Item: this.item(key, payload, ttlMs),
        ConditionExpression: ABSENT_OR_EXPIRED,
        ExpressionAttributeNames: { '#k': this.names['#k']!, '#e': this.names['#e']! },
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
      }),
      'add',
    );
  }

  /**
   * Atomically adds `delta` and returns the new value, in one UpdateItem for a missing or live
   * counter. A plain `ADD` would revive an expired item with its old value (DynamoDB has not
   * deleted it yet), so the ADD is conditioned on the item being missing or live:
   * - no TTL: `ADD #v :d` if missing or live (a new counter gets no expiry);
   * - TTL: `ADD #v :d SET #e = if_not_exists(#e, :exp)` if missing or live *with* an expiry
   *   (a new counter gets `:exp`, a live one keeps its own).
   * When the condition fails the item is expired (or, with a TTL, a live counter without expiry):
   * a PutItem of `delta` replaces an expired one (conditioned on it still being missing or
   * expired), an ADD conditioned on "exists, no expiry" handles the other; losing a race to
   * another writer loops back, bounded by the store's timeout.
   */
  async increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    if (!Number.isSafeInteger(delta)) {
      throw new BackendError(`dynamodb increment: delta must be a safe integer, got ${delta}`, this.driver);
    }
    const deadline = new Deadline(this.options.timeoutMs, 'increment');
    const d: AttributeValue = { N: String(delta) };
    for (;;) {
      const now: AttributeValue = { N: String(nowSeconds()) };
      const first =
        ttlMs === undefined
          ? await this.conditionalAdd(
              key,
              'ADD #v :d',
              `attribute_not_exists(#k) OR ${LIVE}`,
              { ':d': d, ':now': now },
              deadline,
            )
          : await this.conditionalAdd(
              key,
              'ADD #v :d SET #e = if_not_exists(#e, :exp)',
              'attribute_not_exists(#k) OR #e > :now',
              { ':d': d, ':now': now, ':exp': { N: String(expiresAtSeconds(ttlMs)) } },
              deadline,
            );
      if (first.value !== undefined) return first.value;
      // The failed condition returns the item (ReturnValuesOnConditionCheckFailure), which says
      // whether it is expired (recreate) or a live counter without expiry (plain ADD).
      const liveForever = first.old !== undefined && this.isLive(first.old);
      if (!liveForever) {
        const created = await this.sendConditional(
          new PutItemCommand({
            TableName: this.options.table,
            Item: this.item(key, String(delta), ttlMs),
            ConditionExpression: ABSENT_OR_EXPIRED,
            ExpressionAttributeNames: { '#k': this.names['#k']!, '#e': this.names['#e']! },
            ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
          }),
          'increment',
          deadline,
        );
        if (created) return delta;
      }
      // Servers that do not return the old item (older emulators) fall through to this as well.
      if (ttlMs !== undefined && (liveForever || first.old === undefined)) {
        const forever = await this.conditionalAdd(
          key,
          'ADD #v :d',
          'attribute_exists(#k) AND attribute_not_exists(#e)',
          { ':d': d },
          deadline,
        );
        if (forever.value !== undefined) return forever.value;
      }
      if (deadline.remaining() === 0) throw deadline.timeoutError();
    }
  }

  /** A conditional `ADD` UpdateItem: the new value, or the item that failed the condition. */
  private async conditionalAdd(
    key: string,
    update: string,
    condition: string,
    values: Item,
    deadline: Deadline,
  ): Promise<{ value?: number; old?: Item }> {
    const names: Record<string, string> = { '#v': this.names['#v']!, '#e': this.names['#e']! };
    if (condition.includes('#k')) names['#k'] = this.names['#k']!;
    try {
      const out = await this.send<UpdateItemCommandOutput>(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: this.keyOf(key),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        'increment',
        deadline,
      );
      return { value: Number(out.Attributes?.[this.options.attributes.value]?.N) };
    } catch (error) {
      if (error instanceof BackendError && isConditionFailure(error.cause)) {
        const old = (error.cause as { Item?: Item }).Item;
        return old ? { old } : {};
      }
      throw error;
    }
  }

  /** Deletes and returns the payload in one DeleteItem (ReturnValues ALL_OLD); an expired item gives undefined. */
  async pull(key: string): Promise<Payload | undefined> {
    const out = await this.send<DeleteItemCommandOutput>(
      new DeleteItemCommand({ TableName: this.options.table, Key: this.keyOf(key), ReturnValues: 'ALL_OLD' }),
      'pull',
    );
    return this.payloadOf(out.Attributes);
  }

  /** One UpdateItem that sets (or, with no TTL, removes) only the expiry; false if the key is absent or expired. */
  async touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    const values: Item = { ':now': { N: String(nowSeconds()) } };
    if (ttlMs !== undefined) values[':exp'] = { N: String(expiresAtSeconds(ttlMs)) };
    return this.sendConditional(
      new UpdateItemCommand({
        TableName: this.options.table,
        Key: this.keyOf(key),
        UpdateExpression: ttlMs === undefined ? 'REMOVE #e' : 'SET #e = :exp',
        ConditionExpression: `attribute_exists(#k) AND ${LIVE}`,
        ExpressionAttributeNames: { '#k': this.names['#k']!, '#e': this.names['#e']! },
        ExpressionAttributeValues: values,
      }),
      'touch',
    );
  }

  /** Deletes the key only if it is live and its value equals `expected` (lock release). */
  async compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    return this.sendConditional(
      new DeleteItemCommand({
        TableName: this.options.table,
        Key: this.keyOf(key),
        ConditionExpression: `#v = :expected AND ${LIVE}`,
        ExpressionAttributeNames: { '#v': this.names['#v']!, '#e': this.names['#e']! },
        ExpressionAttributeValues: { ':expected': toAttribute(expected), ':now': { N: String(nowSeconds()) } },
      }),
      'compareAndDelete',
    );
  }

  /** Stores `payload` only if the live stored value equals `expected` (`undefined` = absent or expired): one conditional PutItem. */
  async compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    const item = this.item(key, payload, ttlMs);
    return this.sendConditional(compareAndSetCommand(this.options.table, item, this.names, expected), 'compareAndSet');
  }

  /** The table's status, billing and TTL as data; rejects when the table is missing. */
  describe(): Promise<StoreDescription> {
    const { table, endpoint, region } = this.options;
    return describeDynamoDb((command, operation) => this.send(command, operation), table, endpoint, region);
  }

  /** Destroys the client if this store created it. */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  // --- helpers -------------------------------------------------------------------------------

  private keyOf(key: string): Item {
    return { [this.options.attributes.key]: { S: key } };
  }

  private item(key: string, payload: Payload, ttlMs: TtlMs): Item {
    const { attributes } = this.options;
    const item: Item = { [attributes.key]: { S: key }, [attributes.value]: toAttribute(payload) };
    if (ttlMs !== undefined) item[attributes.expiration] = { N: String(expiresAtSeconds(ttlMs)) };
    const size = itemBytes(item);
    if (size > MAX_ITEM_BYTES) {
      const value = item[attributes.value]!;
      const overhead = size - attributeBytes(value);
      throw new ValueTooLargeError(key, attributeBytes(value), MAX_ITEM_BYTES - overhead, this.driver);
    }
    return item;
  }

  private isLive(item: Item): boolean {
    const expiry = item[this.options.attributes.expiration]?.N;
    return !isExpired(expiry === undefined ? undefined : Number(expiry));
  }

  private payloadOf(item: Item | undefined): Payload | undefined {
    if (!item || !this.isLive(item)) return undefined;
    return fromAttribute(item[this.options.attributes.value]);
  }

  /** BatchGetItem of distinct keys (chunks of 100 in parallel, unprocessed keys retried). */
  private async fetchItems(keys: string[], deadline: Deadline, keysOnly = false): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    if (this.ready) await this.whenReady();
    if (keys.length === 1 && !keysOnly) {
      const out = await this.send<GetItemCommandOutput>(
        new GetItemCommand({
          TableName: this.options.table,
          Key: this.keyOf(keys[0]!),
          ConsistentRead: this.options.consistentRead,
        }),
        deadline.operation,
        deadline,
      );
      if (out.Item) found.set(keys[0]!, out.Item);
      return found;
    }
    const { table, attributes, consistentRead } = this.options;
    const projection = keysOnly
      ? {
          ProjectionExpression: '#k, #e',
          ExpressionAttributeNames: { '#k': attributes.key, '#e': attributes.expiration },
        }
      : {};
    await Promise.all(
      chunk(keys, BATCH_GET_LIMIT).map((part) =>
        untilProcessed(
          part.map((key) => this.keyOf(key)),
          async (pending) => {
            const out = await this.send<BatchGetItemCommandOutput>(
              new BatchGetItemCommand({
                RequestItems: { [table]: { Keys: pending, ConsistentRead: consistentRead, ...projection } },
              }),
              deadline.operation,
              deadline,
            );
            for (const item of out.Responses?.[table] ?? []) {
              const key = item[attributes.key]?.S;
              if (key !== undefined) found.set(key, item);
            }
            return out.UnprocessedKeys?.[table]?.Keys ?? [];
          },
          deadline,
        ),
      ),
    );
    return found;
  }

  /** BatchWriteItem in chunks of 25 (in parallel), unprocessed items retried with backoff. */
  private async batchWrite(requests: WriteRequest[], deadline: Deadline): Promise<void> {
    const { table } = this.options;
    await Promise.all(
      chunk(requests, BATCH_WRITE_LIMIT).map((part) =>
        untilProcessed(
          part,
          async (pending) => {
            const out = await this.send<BatchWriteItemCommandOutput>(
              new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
              deadline.operation,
              deadline,
            );
            return out.UnprocessedItems?.[table] ?? [];
          },
          deadline,
        ),
      ),
    );
  }

  private async *scanKeys(prefix: string, includeExpired = false): AsyncIterable<string> {
    let start: Item | undefined;
    do {
      // Each page gets its own time budget: a Scan of a large table takes many pages.
      const deadline = new Deadline(this.options.timeoutMs, 'keys');
      const out = await this.send<ScanCommandOutput>(
        new ScanCommand({
          TableName: this.options.table,
          FilterExpression: 'begins_with(#k, :prefix)',
          ProjectionExpression: '#k, #e',
          ExpressionAttributeNames: { '#k': this.names['#k']!, '#e': this.names['#e']! },
          ExpressionAttributeValues: { ':prefix': { S: prefix } },
          ConsistentRead: this.options.consistentRead,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
        'keys',
        deadline,
      );
      for (const item of out.Items ?? []) {
        const key = item[this.options.attributes.key]?.S;
        if (key !== undefined && (includeExpired || this.isLive(item))) yield key;
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }

  private async clearPrefix(prefix: string): Promise<void> {
    let page: WriteRequest[] = [];
    const flush = async () => {
      await this.batchWrite(page, new Deadline(this.options.timeoutMs, 'clear'));
      page = [];
    };
    for await (const key of this.scanKeys(prefix, true)) {
      page.push({ DeleteRequest: { Key: this.keyOf(key) } });
      if (page.length >= 250) await flush();
    }
    if (page.length > 0) await flush();
  }

  /** Sends one command bounded by `deadline`; failures become BackendError / TimeoutError. */
  private async send<O = unknown>(
    command: object,
    operation: string,
    deadline: Deadline = new Deadline(this.options.timeoutMs, operation),
  ): Promise<O> {
    if (this.ready) await this.whenReady();
    try {
      return (await this.client.send(command as never, { abortSignal: deadline.signal })) as O;
    } catch (error) {
      throw toLarderError(error, `${operation} on table '${this.options.table}'`, deadline, this.secrets);
    }
  }

  /** Sends a conditional write: true when it applied, false when its condition failed. */
  private async sendConditional(command: object, operation: string, deadline?: Deadline): Promise<boolean> {
    try {
      await this.send(command, operation, deadline);
      return true;
    } catch (error) {
      if (error instanceof BackendError && isConditionFailure(error.cause)) return false;
      throw error;
    }
  }
}

/** Creates a DynamoDB store (synchronously; with `createTable` the table is provisioned before the first operation). */
export function createDynamoDbStore(options: DynamoDbStoreOptions = {}): DynamoDbStore {
  return new DynamoDbStore(options);
}
