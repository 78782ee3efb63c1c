import type { Payload } from './contract';
import { SerializationError } from './errors';

/**
 * Turns user values into payloads and back. Codecs must encode integers as plain decimal
 * text (`42` -> "42") and decode such text as a number: drivers implement `increment` with the
 * backend's own counter (`INCRBY`, memcached `incr`, DynamoDB `ADD`), which reads and writes it.
 */
export interface Codec {
  /** Encodes a value; throws `SerializationError` naming the key for values it cannot encode. */
  encode(value: unknown, key: string): Payload;
  /** Decodes a payload produced by `encode` (as a string or as bytes). */
  decode(payload: Payload, key: string): unknown;
}

// Tagged values are objects with this single odd key, which user data is unlikely to use.
const TAG = '\u0000';
// Tagged values encode their tag key as `"\u0000"`. Searched for without the leading quote: a
// pattern that starts with the rare backslash is found about 10× faster than one that starts
// with `"` (every JSON string has them); a false hit only costs the reviver pass.
const TAG_IN_TEXT = '\\u0000"';
// A payload that starts with this byte is raw binary (a top-level Buffer/Uint8Array):
// JSON text never starts with a NUL byte, so the two cannot be confused.
const BINARY_MARKER = 0;

const utf8 = new TextDecoder();

/**
 * The default codec: JSON, extended so that Date, Buffer/Uint8Array, Map, Set and BigInt
 * round-trip. A top-level binary value is stored as raw bytes (one marker byte + the bytes).
 * `undefined`, functions, symbols and circular structures are rejected with `SerializationError`.
 */
export const jsonCodec: Codec = {
  encode(value, key) {
    if (value instanceof Uint8Array) {
      const bytes = new Uint8Array(value.byteLength + 1);
      bytes[0] = BINARY_MARKER;
      bytes.set(value, 1);
      return bytes;
    }
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new SerializationError(`Cannot cache ${value} under key '${key}'`, key);
      return String(value);
    }
    rejectUnencodable(value, key, '');
    try {
      return JSON.stringify(value, replacer);
    } catch (error) {
      if (error instanceof SerializationError) throw new SerializationError(error.message.replace('%KEY%', key), key);
      throw new SerializationError(`Cannot encode the value for key '${key}': ${(error as Error).message}`, key, {
        cause: error,
      });
    }
  },

  decode(payload, key) {
    let text: string;
    if (typeof payload === 'string') {
      text = payload;
    } else {
      if (payload[0] === BINARY_MARKER)
        return Buffer.from(payload.buffer, payload.byteOffset + 1, payload.byteLength - 1);
      text = utf8.decode(payload);
    }
    try {
      return text.includes(TAG_IN_TEXT) ? JSON.parse(text, reviver) : JSON.parse(text);
    } catch (error) {
      throw new SerializationError(`Cannot decode the cached value for key '${key}'`, key, { cause: error });
    }
  },
};

function rejectUnencodable(value: unknown, key: string, path: string): void {
  const type = typeof value;
  if (value === undefined || type === 'function' || type === 'symbol') {
    const where = path ? ` at '${path}'` : '';
    throw new SerializationError(
      `Cannot cache a value of type ${value === undefined ? 'undefined' : type}${where} under key '${key}'`,
      key,
    );
  }
}

function replacer(this: Record<string, unknown>, name: string, value: unknown): unknown {
  const original = this[name];
  if (original instanceof Date) return { [TAG]: 'Date', v: original.getTime() };
  if (original instanceof Uint8Array) return { [TAG]: 'Bin', v: Buffer.from(original).toString('base64') };
  if (value instanceof Map) return { [TAG]: 'Map', v: [...value] };
  if (value instanceof Set) return { [TAG]: 'Set', v: [...value] };
  if (typeof value === 'bigint') return { [TAG]: 'Big', v: value.toString() };
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new SerializationError(`Cannot cache a value of type ${typeof value} at '${name}' under key '%KEY%'`, '');
  }
  return value;
}

function reviver(_name: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !(TAG in value)) return value;
  const { [TAG]: tag, v } = value as { [TAG]: string; v: unknown };
  switch (tag) {
    case 'Date':
      return new Date(v as number);
    case 'Bin':
      return Buffer.from(v as string, 'base64');
    case 'Map':
      return new Map(v as [unknown, unknown][]);
    case 'Set':
      return new Set(v as unknown[]);
    case 'Big':
      return BigInt(v as string);
    default:
      return value;
  }
}

/** Byte length of a payload (UTF-8 for strings). */
export function payloadBytes(payload: Payload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
}
