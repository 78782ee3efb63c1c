import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Payload } from '@larder/core/driver';
import { nowSeconds } from './expiry';
import { toAttribute } from './item';

/**
 * The conditional PutItem of `compareAndSet`: with an expected payload, the stored value must equal
 * it and the item must be live (DynamoDB serves expired items until its sweeper runs, so an
 * expired match is no match); with none, the item must be absent or expired. `names` maps the
 * expression names `#k`, `#v`, `#e` to the table's attributes.
 */
export function compareAndSetCommand(
  table: string,
  item: Record<string, AttributeValue>,
  names: Record<string, string>,
  expected: Payload | undefined,
): PutItemCommand {
  const now = { N: String(nowSeconds()) };
  if (expected === undefined) {
    return new PutItemCommand({
      TableName: table,
      Item: item,
      ConditionExpression: 'attribute_not_exists(#k) OR #e <= :now',
      ExpressionAttributeNames: { '#k': names['#k']!, '#e': names['#e']! },
      ExpressionAttributeValues: { ':now': now },
    });
  }
  return new PutItemCommand({
    TableName: table,
    Item: item,
    ConditionExpression: '(#v = :expected OR #v = :same) AND (attribute_not_exists(#e) OR #e > :now)',
    ExpressionAttributeNames: { '#v': names['#v']!, '#e': names['#e']! },
    ExpressionAttributeValues: { ':expected': toAttribute(expected), ':same': otherForm(expected), ':now': now },
  });
}

/**
 * The same bytes in the other attribute type: text is stored as S (or N) and bytes as B, and the
 * contract compares bytes, so text `"a"` must match a stored B `0x61` and the reverse. Bytes that
 * are not valid UTF-8 have no text form: their own B is repeated.
 */
function otherForm(expected: Payload): AttributeValue {
  if (typeof expected === 'string') return { B: Buffer.from(expected) };
  const bytes = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text).equals(bytes) ? toAttribute(text) : { B: bytes };
}
