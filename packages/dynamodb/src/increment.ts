import {
  type AttributeValue,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { BackendError, isLarderError } from '@larder/core';
import type { TtlMs } from '@larder/core/driver';
import { Deadline } from './batch';
import { ABSENT_OR_EXPIRED, LIVE } from './conditions';
import { isConditionFailure } from './errors';
import { expiresAtSeconds, nowSeconds } from './expiry';
import type { DynamoTable, Item } from './table';

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
export async function incrementCounter(table: DynamoTable, key: string, delta: number, ttlMs: TtlMs): Promise<number> {
  if (!Number.isSafeInteger(delta)) {
    throw new BackendError(`dynamodb increment: delta must be a safe integer, got ${delta}`, 'dynamodb');
  }
  const deadline = new Deadline(table.options.timeoutMs, 'increment');
  const d: AttributeValue = { N: String(delta) };
  for (;;) {
    const now: AttributeValue = { N: String(nowSeconds()) };
    const first =
      ttlMs === undefined
        ? await conditionalAdd(
            table,
            key,
            'ADD #v :d',
            `attribute_not_exists(#k) OR ${LIVE}`,
            { ':d': d, ':now': now },
            deadline,
          )
        : await conditionalAdd(
            table,
            key,
            'ADD #v :d SET #e = if_not_exists(#e, :exp)',
            'attribute_not_exists(#k) OR #e > :now',
            { ':d': d, ':now': now, ':exp': { N: String(expiresAtSeconds(ttlMs)) } },
            deadline,
          );
    if (first.value !== undefined) return first.value;
    // The failed condition returns the item (ReturnValuesOnConditionCheckFailure), which says
    // whether it is expired (recreate) or a live counter without expiry (plain ADD).
    const liveForever = first.old !== undefined && table.isLive(first.old);
    if (!liveForever) {
      const created = await table.sendConditional(
        new PutItemCommand({
          TableName: table.options.table,
          Item: table.item(key, String(delta), ttlMs),
          ConditionExpression: ABSENT_OR_EXPIRED,
          ExpressionAttributeNames: { '#k': table.names['#k']!, '#e': table.names['#e']! },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
        }),
        'increment',
        deadline,
      );
      if (created) return delta;
    }
    // Servers that do not return the old item (older emulators) fall through to this as well.
    if (ttlMs !== undefined && (liveForever || first.old === undefined)) {
      const forever = await conditionalAdd(
        table,
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
async function conditionalAdd(
  table: DynamoTable,
  key: string,
  update: string,
  condition: string,
  values: Item,
  deadline: Deadline,
): Promise<{ value?: number; old?: Item }> {
  const names: Record<string, string> = { '#v': table.names['#v']!, '#e': table.names['#e']! };
  if (condition.includes('#k')) names['#k'] = table.names['#k']!;
  try {
    const out = await table.send<UpdateItemCommandOutput>(
      new UpdateItemCommand({
        TableName: table.options.table,
        Key: table.keyOf(key),
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
    return { value: Number(out.Attributes?.[table.options.attributes.value]?.N) };
  } catch (error) {
    if (isLarderError(error, 'E_BACKEND') && isConditionFailure(error.cause)) {
      const old = (error.cause as { Item?: Item }).Item;
      return old ? { old } : {};
    }
    throw error;
  }
}
