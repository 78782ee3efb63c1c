import { BackendError, SerializationError } from '@larder/core';
import { type Payload, rawValueSize } from '@larder/core/driver';

/** What the store keeps: a payload, or in the raw modes (`clone`, `reference`) the caller's value (a counter is a number there). */
export type Stored = Payload | number | object;

const DECIMAL = /^-?\d+$/;
const utf8 = new TextDecoder();

/** Throws the facade's detailed error (with the path) for a value the copy refused. */
export function refuseUncopyable(key: string, value: unknown, maxValueBytes: number): never {
  // rawValueSize throws SerializationError for everything the copy refuses (it wraps overflows
  // and getter errors); a getter that threw only once still gets a typed error here.
  rawValueSize(value, key, maxValueBytes);
  throw new SerializationError(`Cannot cache the value under key '${key}': it cannot be copied`, key);
}

/** A stored counter's value. Raw values are the user's own: there a string of digits is a string, not a counter. */
export function toInteger(value: Stored, key: string, encoded: boolean): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (encoded) {
    const text = typeof value === 'string' ? value : value instanceof Uint8Array ? utf8.decode(value) : '';
    const n = DECIMAL.test(text) ? Number(text) : Number.NaN;
    if (Number.isSafeInteger(n)) return n;
  }
  throw new BackendError(`Cannot increment '${key}': the stored value is not an integer`, 'memory');
}

/** The counted size of a stored value: its length for text and bytes (at least 1), 8 for a number, `rawValueBytes` for an object kept by reference. */
export function sizeOf(value: Stored, rawValueBytes: number): number {
  if (typeof value === 'string') return value.length || 1;
  if (value instanceof Uint8Array) return value.byteLength || 1;
  if (typeof value === 'number') return 8;
  return rawValueBytes;
}
