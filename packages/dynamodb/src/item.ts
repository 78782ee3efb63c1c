import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Payload } from '@larder/core/driver';

/** DynamoDB's item size limit (names and values of every attribute), 400 KB. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's partition key limit in bytes. */
export const MAX_KEY_BYTES = 2048;

// A canonical integer (no sign on zero, no leading zeros, at most 38 digits: DynamoDB's Number
// precision) round-trips through an N attribute unchanged, so it can be stored as N.
const CANONICAL_INTEGER = /^(?:0|-?[1-9]\d{0,37})$/;

/**
 * Payload -> attribute value. Bytes are stored as B and text as S, except canonical integer
 * text (what codecs produce for integers), which is stored as N so that `increment` can use
 * DynamoDB's atomic `ADD` on it. Reading gives back the same decimal text.
 */
export function toAttribute(payload: Payload): AttributeValue {
  if (typeof payload !== 'string') return { B: payload };
  return CANONICAL_INTEGER.test(payload) ? { N: payload } : { S: payload };
}

/** Attribute value -> payload (`undefined` for a type larder never writes). */
export function fromAttribute(value: AttributeValue | undefined): Payload | undefined {
  if (!value) return undefined;
  if (value.S !== undefined) return value.S;
  if (value.B !== undefined) return value.B;
  if (value.N !== undefined) return value.N;
  return undefined;
}

/** Size DynamoDB bills and limits for an attribute value (S: UTF-8 bytes; N: ~1 byte per 2 digits + 1). */
export function attributeBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-/, '').replace(/^0+|0+$/g, '').length / 2) + 1;
  return 0;
}

/** Size of an item: attribute names (UTF-8) plus values. */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + attributeBytes(value);
  return size;
}
