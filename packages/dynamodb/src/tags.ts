import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { isLarderError } from '@larder/core';
import type { TtlMs } from '@larder/core/driver';
import { Deadline } from './batch';
import { ABSENT_OR_EXPIRED, LIVE } from './conditions';
import { isConditionFailure } from './errors';
import { expiresAtSeconds, nowSeconds } from './expiry';
import type { DynamoTable, Item } from './table';

/** A tag counter's value in an item (counters are stored as numbers). */
const counterValue = (table: DynamoTable, item: Item | undefined): number | undefined => {
  const attribute = item?.[table.options.attributes.value];
  const text = attribute?.N ?? attribute?.S;
  return text === undefined ? undefined : Number(text);
};

/**
 * Tags (core README "Tags"): each counter's value; a missing or expired one is made at its start.
 * A live counter's expiry is extended to `ttlMs` from now only when less than half of it is left,
 * and never shortened: one `UpdateItem` conditioned on that (its old item comes back when the
 * condition fails, so reading costs the same request), then a conditional `PutItem` when the
 * counter is missing or expired. A lost race loops, bounded by the store's timeout.
 */
export async function tagVersions(
  table: DynamoTable,
  keys: readonly string[],
  starts: readonly number[],
  ttlMs: TtlMs,
): Promise<number[]> {
  const deadline = new Deadline(table.options.timeoutMs, 'tagVersions');
  return Promise.all(keys.map((key, i) => version(table, key, starts[i] as number, ttlMs, deadline)));
}

async function version(table: DynamoTable, key: string, start: number, ttlMs: TtlMs, deadline: Deadline) {
  const names = table.names;
  for (;;) {
    const now = nowSeconds();
    const extend: { update: string; condition: string; values: Item } =
      ttlMs === undefined
        ? { update: 'REMOVE #e', condition: `attribute_exists(#k) AND attribute_exists(#e) AND #e > :now`, values: {} }
        : {
            update: 'SET #e = :exp',
            condition: `attribute_exists(#k) AND #e > :now AND #e < :soon`,
            values: {
              ':exp': { N: String(expiresAtSeconds(ttlMs)) },
              ':soon': { N: String(expiresAtSeconds(ttlMs / 2)) },
            },
          };
    try {
      const out = await table.send<{ Attributes?: Item }>(
        new UpdateItemCommand({
          TableName: table.options.table,
          Key: table.keyOf(key),
          UpdateExpression: extend.update,
          ConditionExpression: extend.condition,
          ExpressionAttributeNames: { '#k': names['#k']!, '#e': names['#e']! },
          ExpressionAttributeValues: { ':now': { N: String(now) }, ...extend.values },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        'tagVersions',
        deadline,
      );
      const value = counterValue(table, out.Attributes);
      if (value !== undefined) return value;
    } catch (error) {
      if (!(isLarderError(error, 'E_BACKEND') && isConditionFailure(error.cause))) throw error;
      // Not extended: live with a later expiry (or none) is the answer; missing or expired is made below.
      const old = (error.cause as { Item?: Item }).Item;
      const value = old !== undefined && table.isLive(old) ? counterValue(table, old) : undefined;
      if (value !== undefined) return value;
      if (old === undefined) {
        // Missing, or a server that does not return the old item (older emulators): read it.
        const held = (await table.fetchItems([key], deadline)).get(key);
        const current = held !== undefined && table.isLive(held) ? counterValue(table, held) : undefined;
        if (current !== undefined) return current;
      }
    }
    const made = await table.sendConditional(
      new PutItemCommand({
        TableName: table.options.table,
        Item: table.item(key, String(start), ttlMs),
        ConditionExpression: ABSENT_OR_EXPIRED,
        ExpressionAttributeNames: { '#k': names['#k']!, '#e': names['#e']! },
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
      }),
      'tagVersions',
      deadline,
    );
    if (made) return start;
    if (deadline.remaining() === 0) throw deadline.timeoutError();
  }
}

/** Tags: `ADD` of `delta` to each counter that exists and is live; a missing or expired one stays as it is. */
export async function bumpTags(table: DynamoTable, keys: readonly string[], delta: number): Promise<void> {
  const deadline = new Deadline(table.options.timeoutMs, 'invalidateTags');
  await Promise.all(
    keys.map((key) =>
      table.sendConditional(
        new UpdateItemCommand({
          TableName: table.options.table,
          Key: table.keyOf(key),
          UpdateExpression: 'ADD #v :d',
          ConditionExpression: `attribute_exists(#k) AND ${LIVE}`,
          ExpressionAttributeNames: { '#k': table.names['#k']!, '#v': table.names['#v']!, '#e': table.names['#e']! },
          ExpressionAttributeValues: { ':d': { N: String(delta) }, ':now': { N: String(nowSeconds()) } },
        }),
        'invalidateTags',
        deadline,
      ),
    ),
  );
}
