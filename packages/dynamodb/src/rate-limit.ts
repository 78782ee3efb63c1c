import {
  GetItemCommand,
  type GetItemCommandOutput,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { BackendError, InvalidKeyError, isLarderError, UnsupportedOperationError } from '@larder/core';
import type { RateLimitReply, RateLimitRequest } from '@larder/core/driver';
import { Deadline } from './batch';
import { isConditionFailure } from './errors';
import { MAX_KEY_BYTES } from './item';
import type { DynamoTable, Item } from './table';

const DRIVER = 'dynamodb';

/**
 * Rate limits on DynamoDB: the fixed window only, one conditional UpdateItem per hit. DynamoDB
 * has no clock to read, so windows are aligned on the app server's clock (`Date.now()`): window
 * `n` covers [n × window, (n + 1) × window) and has an item of its own, `<key>#<n>`, whose count
 * is an `ADD` conditioned on staying within the limit — exact on the item, however many app
 * instances write to it. Each item expires (TTL attribute) one window and one timeout after its
 * window ends: a hit sent just before the edge may arrive after it, and an app server whose
 * clock is behind still counts into the window, so the item must not be swept (TTL deletion
 * may come any time after the expiry) and recreated from zero, which would admit the limit
 * twice. What clock skew does: see the README ("DynamoDB and clocks").
 * Not done: the sliding window and the token bucket need "reset or add" depending on the stored
 * time, a branch one UpdateItem cannot take (its update expression has no conditional arithmetic);
 * they are refused, not approximated with two round trips.
 */
export async function rateLimit(table: DynamoTable, key: string, request: RateLimitRequest): Promise<RateLimitReply> {
  if (request.algorithm !== 'fixed') {
    throw new UnsupportedOperationError(
      `the '${request.algorithm}' rate limit algorithm`,
      DRIVER,
      'it needs a conditional branch on a stored time that one UpdateItem cannot take (use the fixed window, or Redis)',
    );
  }
  const { limit, cost, windowMs } = request;
  const now = Date.now();
  const window = Math.floor(now / windowMs);
  const endsAt = (window + 1) * windowMs;
  const resetMs = endsAt - now;
  const itemKey = windowKey(key, window);
  const names = { '#v': table.names['#v']! };
  const deadline = new Deadline(table.options.timeoutMs, 'rateLimit');

  if (request.op === 'reset') {
    // The neighbours too: instances whose clocks differ may be counting into them right now.
    await table.batchWrite(
      [window - 1, window, window + 1].map((n) => ({ DeleteRequest: { Key: table.keyOf(windowKey(key, n)) } })),
      deadline,
    );
    return { allowed: true, remaining: limit, resetMs: 0, retryAfterMs: 0 };
  }
  if (request.op === 'peek') {
    const out = await table.send<GetItemCommandOutput>(
      new GetItemCommand({
        TableName: table.options.table,
        Key: table.keyOf(itemKey),
        ConsistentRead: true,
        ProjectionExpression: '#v',
        ExpressionAttributeNames: names,
      }),
      'rateLimit',
      deadline,
    );
    const count = countOf(out.Item, table, key);
    const allowed = count + cost <= limit;
    return reply(allowed, limit - count, count === 0 ? 0 : resetMs, allowed ? 0 : resetMs);
  }
  const refund = request.op === 'refund';
  try {
    const out = await table.send<UpdateItemCommandOutput>(
      new UpdateItemCommand({
        TableName: table.options.table,
        Key: table.keyOf(itemKey),
        UpdateExpression: refund ? 'ADD #v :delta' : 'ADD #v :delta SET #e = if_not_exists(#e, :expires)',
        ConditionExpression: refund ? '#v >= :cost' : 'attribute_not_exists(#v) OR #v <= :max',
        ExpressionAttributeNames: refund ? names : { ...names, '#e': table.names['#e']! },
        ExpressionAttributeValues: refund
          ? { ':delta': { N: String(-cost) }, ':cost': { N: String(cost) } }
          : {
              ':delta': { N: String(cost) },
              ':max': { N: String(limit - cost) },
              ':expires': { N: String(Math.ceil((endsAt + windowMs + table.options.timeoutMs) / 1000)) },
            },
        ReturnValues: 'UPDATED_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
      'rateLimit',
      deadline,
    );
    const count = countOf(out.Attributes, table, key);
    return reply(true, limit - count, count === 0 ? 0 : resetMs, 0);
  } catch (error) {
    if (!(isLarderError(error, 'E_BACKEND') && isConditionFailure(error.cause))) throw error;
    // Not admitted (or nothing to refund): the item that failed the condition holds the count.
    const count = countOf((error.cause as { Item?: Item }).Item, table, key);
    return refund
      ? reply(true, limit - count, count === 0 ? 0 : resetMs, 0)
      : reply(false, limit - count, resetMs, resetMs);
  }
}

/** The item key of window `n` of `key`; InvalidKeyError past DynamoDB's partition key limit. */
function windowKey(key: string, n: number): string {
  const itemKey = `${key}#${n}`;
  if (Buffer.byteLength(itemKey) > MAX_KEY_BYTES) {
    throw new InvalidKeyError(
      `Rate limit key '${key.slice(0, 60)}...' is ${Buffer.byteLength(itemKey)} bytes with its window number; the dynamodb driver accepts at most ${MAX_KEY_BYTES}`,
      key,
    );
  }
  return itemKey;
}

function countOf(item: Item | undefined, table: DynamoTable, key: string): number {
  const value = item?.[table.options.attributes.value];
  if (value === undefined) return 0;
  const count = Number(value.N);
  if (!Number.isSafeInteger(count)) {
    throw new BackendError(`dynamodb rate limit of '${key}': the stored value is not a counter`, DRIVER);
  }
  return count;
}

function reply(allowed: boolean, remaining: number, resetMs: number, retryAfterMs: number): RateLimitReply {
  return { allowed, remaining: Math.max(0, remaining), resetMs, retryAfterMs };
}
