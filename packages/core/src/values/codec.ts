import { isLarderError, SerializationError } from '../contract/errors';
import type { Payload } from '../contract/store';
import { missingStepError } from './frame';
import { refusalError, refusedLeaf } from './json-walk';
import { holds } from './string-calls';

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

// Tagged values are objects `{ "\u0000": <tag>, v: <data> }`. A user object that has this key
// itself is escaped (tag `Obj`, its entries as data), so every object with the key in a payload
// is one of ours: user data cannot forge a Date, Map, typed array...
const TAG = '\u0000';
// Tagged values encode their tag key as `"\u0000"`. Searched for without the leading quote: a
// pattern that starts with the rare backslash is found about 10× faster than one that starts
// with `"` (every JSON string has them); a false hit only costs the reviver pass.
const TAG_IN_TEXT = '\\u0000"';
// A payload that starts with this byte is raw binary (a top-level Buffer/Uint8Array):
// JSON text never starts with a NUL byte, so the two cannot be confused.
const BINARY_MARKER = 0;
// As BINARY_MARKER, for a top-level Uint8Array that is not a Buffer (decoded as a Uint8Array).
// 0xFF never occurs in UTF-8, so a driver that reads values as text first (Redis) sees U+FFFD
// and reads the bytes, as it does for BINARY_MARKER payloads.
const UINT8_MARKER = 0xff;

const utf8 = new TextDecoder();

// Typed arrays by tag (their class name); their bytes travel as base64, in platform byte order.
const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};

/**
 * The default codec: JSON, extended so that every value it accepts round-trips exactly:
 * Date (invalid ones too), Buffer, typed arrays (same class), Map, Set, BigInt, NaN, ±Infinity,
 * -0 and `undefined` inside objects and arrays (an array hole comes back as `undefined`).
 * Integers and other finite numbers stay plain decimal text. A top-level Buffer/Uint8Array is
 * stored as raw bytes (one marker byte + the bytes). Top-level `undefined`, functions, symbols,
 * circular structures and values nested too deeply are refused with `SerializationError`.
 * Class instances encode as JSON does (own enumerable properties, or `toJSON`): they come back as
 * plain objects.
 */
export const jsonCodec: Codec = {
  encode(value, key) {
    if (value instanceof Uint8Array && (Buffer.isBuffer(value) || value.constructor === Uint8Array)) {
      const bytes = new Uint8Array(value.byteLength + 1);
      bytes[0] = Buffer.isBuffer(value) ? BINARY_MARKER : UINT8_MARKER;
      bytes.set(value, 1);
      return bytes;
    }
    if (typeof value === 'string') return JSON.stringify(value);
    // -0 is not an integer for the counters: `String(-0)` is "0", so it is tagged like NaN.
    if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) return String(value);
    if (isPlainJson(value)) return JSON.stringify(value);
    if (value === undefined || refusedLeaf(value) !== undefined) {
      throw refusalError(value, key, () => encodeError(undefined, key));
    }
    try {
      return JSON.stringify(value, replacer);
    } catch (error) {
      // The replacer only stops the encoding; the JSON walker says what was refused and where.
      throw refusalError(value, key, () => encodeError(error, key));
    }
  },

  decode(payload, key) {
    let text: string;
    if (typeof payload === 'string') {
      text = payload;
    } else {
      if (payload[0] === BINARY_MARKER)
        return Buffer.from(payload.buffer, payload.byteOffset + 1, payload.byteLength - 1);
      // A copy into a plain Uint8Array: drivers hand back Buffers.
      if (payload[0] === UINT8_MARKER) return new Uint8Array(payload.subarray(1));
      text = utf8.decode(payload);
    }
    try {
      if (!holds(text, TAG_IN_TEXT)) return JSON.parse(text);
      pendingUndefined = 0;
      return JSON.parse(text, reviver);
    } catch (error) {
      // A framed entry (compressed, encrypted, chunked) read by a cache without those steps: say which.
      throw (
        missingStepError(payload, key) ??
        new SerializationError(`Cannot decode the cached value for key '${key}'`, key, { cause: error })
      );
    }
  },
};

// Deeper plain data is left to the replacer path (which meets a cycle as JSON.stringify does).
const PLAIN_DEPTH = 32;

/**
 * True when `value` is plain JSON data: null, booleans, strings, finite numbers other than -0,
 * arrays without holes and plain objects (without the tag key) of such values. The replacer
 * returns every one of them unchanged, so `JSON.stringify` gives the same text without it, about
 * twice as fast (a 200-byte record: ~1.05 -> ~0.5 us). Anything else (Date, Map, typed arrays,
 * nested undefined, NaN, -0, `toJSON`, class instances, a throwing getter) takes the replacer path.
 */
function isPlainJson(value: unknown): boolean {
  try {
    return plainAt(value, 0);
  } catch {
    return false;
  }
}

function plainAt(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth === PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        // A hole reads as undefined: not plain.
        for (let i = 0; i < value.length; i++) if (!plainAt(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      const record = value as Record<string, unknown>;
      for (const name in record) if (name === TAG || !plainAt(record[name], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** The error of an encoding that failed on something the JSON walker does not refuse (e.g. a typed array of an unknown class). */
function encodeError(error: unknown, key: string): SerializationError {
  if (isLarderError(error, 'E_SERIALIZATION')) return new SerializationError(error.message.replace('%KEY%', key), key);
  return new SerializationError(`Cannot encode the value for key '${key}': ${(error as Error)?.message}`, key, {
    cause: error,
  });
}

// Called by JSON.stringify for every value; `this[name]` is the value before `toJSON`.
function replacer(this: Record<string, unknown>, name: string, value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      // A Date arrives here as its `toJSON` text (24 characters, 27 for years past 9999):
      // only strings of those lengths pay for the look-up of the original.
      if ((value.length === 24 || value.length === 27) && this[name] instanceof Date) return dateTag(this[name]);
      return value;
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: 'Num', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'object': {
      const original = this[name];
      // An invalid Date's `toJSON` gives null.
      if (value === null) return original instanceof Date ? dateTag(original) : value;
      if (ArrayBuffer.isView(original)) return typedArray(original);
      if (Array.isArray(value)) return value;
      if (TAG in value) return { [TAG]: 'Obj', v: Object.entries(value) };
      if (value instanceof Map) return { [TAG]: 'Map', v: [...value] };
      if (value instanceof Set) return { [TAG]: 'Set', v: [...value] };
      return value;
    }
    case 'undefined':
      return { [TAG]: 'U' };
    case 'bigint':
      return { [TAG]: 'Big', v: value.toString() };
    default:
      // A function or a symbol: refused (JSON.stringify would drop it); `encode` explains where.
      throw new SerializationError(`Cannot cache a value of type ${typeof value} at '${name}' under key '%KEY%'`, '');
  }
}

function dateTag(date: Date): unknown {
  const time = date.getTime();
  return { [TAG]: 'Date', v: Number.isNaN(time) ? 'NaN' : time };
}

function typedArray(view: ArrayBufferView): unknown {
  const base64 = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
  if (Buffer.isBuffer(view)) return { [TAG]: 'Bin', v: base64 };
  const name = view.constructor.name;
  if (TYPED_ARRAYS[name] !== view.constructor) {
    throw new SerializationError(`Cannot cache a ${name} under key '%KEY%'`, '');
  }
  return { [TAG]: name, v: base64 };
}

// `undefined` cannot be returned by a reviver (JSON.parse would delete the property, or leave
// a hole in an array): it is revived as this marker, which its parent replaces.
const UNDEFINED = Object.freeze({});
// Markers not yet replaced by their parent (the reviver visits children before parents).
let pendingUndefined = 0;

function reviver(_name: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (pendingUndefined > 0) replaceMarkers(value);
  if (!(TAG in value)) return value;
  const { [TAG]: tag, v } = value as { [TAG]: string; v: unknown };
  switch (tag) {
    case 'Date':
      return new Date(v === 'NaN' ? Number.NaN : (v as number));
    case 'Bin':
      return Buffer.from(v as string, 'base64');
    case 'Map':
      return new Map(v as [unknown, unknown][]);
    case 'Set':
      return new Set(v as unknown[]);
    case 'Big':
      return BigInt(v as string);
    case 'Num':
      return Number(v);
    case 'U':
      pendingUndefined++;
      return UNDEFINED;
    case 'Obj':
      return Object.fromEntries(v as [string, unknown][]);
    default: {
      const View = TYPED_ARRAYS[tag];
      if (View === undefined) return value;
      const bytes = Buffer.from(v as string, 'base64');
      // A fresh, aligned buffer of exactly the view's bytes.
      const buffer = new ArrayBuffer(bytes.byteLength);
      new Uint8Array(buffer).set(bytes);
      return new View(buffer);
    }
  }
}

function replaceMarkers(value: object): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === UNDEFINED) {
        value[i] = undefined;
        pendingUndefined--;
      }
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const name in record) {
    if (record[name] === UNDEFINED) {
      record[name] = undefined;
      pendingUndefined--;
    }
  }
}

/** Byte length of a payload (UTF-8 for strings). */
export function payloadBytes(payload: Payload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
}
