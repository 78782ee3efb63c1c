import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { isLarderError, ValueTooLargeError } from '@larder/core';
import type { Payload, TtlMs } from '@larder/core/driver';
import { BATCH_GET_LIMIT, BATCH_WRITE_LIMIT, chunk, Deadline, untilProcessed } from './batch';
import { isConditionFailure, toLarderError } from './errors';
import { expiresAtSeconds, isExpired } from './expiry';
import { attributeBytes, fromAttribute, itemBytes, MAX_ITEM_BYTES, toAttribute } from './item';
import type { ResolvedDynamoDbOptions } from './options';

/** One DynamoDB item: attribute name to value. */
export type Item = Record<string, AttributeValue>;

/**
 * The table as the store sees it: items built from payloads and read back, and every request
 * (single, batched with unprocessed-item retries, Scan) sent under a deadline with errors mapped
 * to larder's typed errors.
 */
export class DynamoTable {
  /** Expression names used in every condition: #k key, #v value, #e expiry. */
  readonly names: Record<string, string>;

  /** `untilReady` returns a promise while the table is still being created, else undefined. */
  constructor(
    readonly client: DynamoDBClient,
    readonly options: ResolvedDynamoDbOptions,
    /** AWS keys, scrubbed from every wrapped error. */
    private readonly secrets: readonly string[],
    private readonly untilReady: () => Promise<void> | undefined,
  ) {
    const { key, value, expiration } = options.attributes;
    this.names = { '#k': key, '#v': value, '#e': expiration };
  }

  /** The primary key of `key`. */
  keyOf(key: string): Item {
    return { [this.options.attributes.key]: { S: key } };
  }

  /** The item stored for `key`; throws ValueTooLargeError past DynamoDB's 400 KB item limit. */
  item(key: string, payload: Payload, ttlMs: TtlMs): Item {
    const { attributes } = this.options;
    const item: Item = { [attributes.key]: { S: key }, [attributes.value]: toAttribute(payload) };
    if (ttlMs !== undefined) item[attributes.expiration] = { N: String(expiresAtSeconds(ttlMs)) };
    const size = itemBytes(item);
    if (size > MAX_ITEM_BYTES) {
      const value = item[attributes.value]!;
      const overhead = size - attributeBytes(value);
      throw new ValueTooLargeError(key, attributeBytes(value), MAX_ITEM_BYTES - overhead, 'dynamodb');
    }
    return item;
  }

  /** True when the item has no expiry or has not reached it. */
  isLive(item: Item): boolean {
    const expiry = item[this.options.attributes.expiration]?.N;
    return !isExpired(expiry === undefined ? undefined : Number(expiry));
  }

  /** The payload of a live item; undefined for a missing or expired one. */
  payloadOf(item: Item | undefined): Payload | undefined {
    if (!item || !this.isLive(item)) return undefined;
    return fromAttribute(item[this.options.attributes.value]);
  }

  /** BatchGetItem of distinct keys (chunks of 100 in parallel, unprocessed keys retried). */
  async fetchItems(keys: string[], deadline: Deadline, keysOnly = false): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    const ready = this.untilReady();
    if (ready) await ready;
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
  async batchWrite(requests: WriteRequest[], deadline: Deadline): Promise<void> {
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

  /** Keys under `prefix` (a Scan of the whole table, page by page); expired ones only with `includeExpired`. */
  async *scanKeys(prefix: string, includeExpired = false): AsyncIterable<string> {
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

  /** Sends one command bounded by `deadline`; failures become BackendError / TimeoutError. */
  async send<O = unknown>(
    command: object,
    operation: string,
    deadline: Deadline = new Deadline(this.options.timeoutMs, operation),
  ): Promise<O> {
    const ready = this.untilReady();
    if (ready) await ready;
    try {
      return (await this.client.send(command as never, { abortSignal: deadline.signal })) as O;
    } catch (error) {
      const { table, region, endpoint } = this.options;
      throw toLarderError(error, `${operation} on table '${table}'`, deadline, this.secrets, {
        table,
        region,
        endpoint,
      });
    }
  }

  /** Sends a conditional write: true when it applied, false when its condition failed. */
  async sendConditional(command: object, operation: string, deadline?: Deadline): Promise<boolean> {
    try {
      await this.send(command, operation, deadline);
      return true;
    } catch (error) {
      if (isLarderError(error, 'E_BACKEND') && isConditionFailure(error.cause)) return false;
      throw error;
    }
  }
}
