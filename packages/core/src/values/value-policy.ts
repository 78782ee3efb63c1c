import { isLarderError, type LarderError, SerializationError } from '../contract/errors';

const INPUT_CODES: readonly string[] = [
  'E_INVALID_KEY',
  'E_INVALID_TTL',
  'E_SERIALIZATION',
  'E_VALUE_TOO_LARGE',
  'E_UNSUPPORTED_OPERATION',
  'E_CONFIG',
  'E_DRIVER_NOT_FOUND',
  'E_INVALID_ARGUMENT',
];

/**
 * Errors caused by the caller's input or set-up. They reject whatever `onError` says: failing
 * open on them would hide bugs, and nothing was sent to the backend.
 */
export function isInputError(error: LarderError): boolean {
  // By code, not class: a driver's error may come from another copy of core.
  return isLarderError(error, INPUT_CODES);
}

/**
 * For stores that keep values as given (`capabilities.rawValues`): rejects what the JSON codec
 * would reject — `undefined` at the top, and functions, symbols, cycles, throwing getters and
 * nesting too deep to walk anywhere — with `SerializationError`, so every driver accepts the same values. Returns the
 * size the JSON codec would give the value: exact for strings (quotes included, escapes not)
 * and binary (marker byte included), an estimate for objects (string and key lengths plus a
 * few bytes per item), so `maxValueBytes` means the same with and without the codec.
 */
export function rawValueSize(value: unknown, key: string, maxBytes: number): number {
  const type = typeof value;
  if (type === 'string') {
    const text = value as string;
    return text.length * 3 + 2 <= maxBytes ? text.length + 2 : Buffer.byteLength(text) + 2;
  }
  if (type === 'boolean' || type === 'bigint' || type === 'number' || value === null) return 8;
  if (type === 'object') {
    if (ArrayBuffer.isView(value)) return value.byteLength + 1;
    try {
      // Fast pass without paths; on a problem, the detailed pass builds the message.
      const size = measure(value as object, []);
      return size >= 0 ? size : walk(value as object, key, '', []);
    } catch (error) {
      if (isLarderError(error, 'E_SERIALIZATION')) throw error;
      // The walks recurse: a value nested some ten thousand deep overflows the stack.
      const why =
        error instanceof RangeError ? 'it is nested too deeply' : `reading it failed: ${(error as Error)?.message}`;
      throw new SerializationError(`Cannot cache the value under key '${key}': ${why}`, key, { cause: error });
    }
  }
  throw new SerializationError(
    `Cannot cache a value of type ${value === undefined ? 'undefined' : type} under key '${key}'`,
    key,
  );
}

/** Like `walk`, without building paths: returns -1 on a function, symbol or cycle. */
function measure(value: object, ancestors: object[]): number {
  if (ArrayBuffer.isView(value)) return Math.ceil((value.byteLength * 4) / 3) + 16;
  if (value instanceof Date || value instanceof ArrayBuffer || value instanceof RegExp) return 24;
  if (ancestors.includes(value)) return -1;
  ancestors.push(value);
  let size = 2;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const a = measureChild(k, ancestors);
      const b = measureChild(v, ancestors);
      if (a < 0 || b < 0) return -1;
      size += a + b + 4;
    }
  } else if (value instanceof Set) {
    for (const v of value) {
      const a = measureChild(v, ancestors);
      if (a < 0) return -1;
      size += a + 1;
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const a = measureChild(value[i], ancestors);
      if (a < 0) return -1;
      size += a + 1;
    }
  } else {
    for (const name in value) {
      if (!Object.hasOwn(value, name)) continue;
      const a = measureChild((value as Record<string, unknown>)[name], ancestors);
      if (a < 0) return -1;
      size += name.length + 4 + a;
    }
  }
  ancestors.pop();
  return size;
}

function measureChild(value: unknown, ancestors: object[]): number {
  const type = typeof value;
  if (type === 'string') return (value as string).length + 2;
  if (type === 'object' && value !== null) return measure(value as object, ancestors);
  if (type === 'function' || type === 'symbol') return -1;
  return 8;
}

function walk(value: object, key: string, path: string, ancestors: object[]): number {
  if (ArrayBuffer.isView(value)) return Math.ceil((value.byteLength * 4) / 3) + 16; // base64 in JSON
  if (value instanceof Date || value instanceof ArrayBuffer || value instanceof RegExp) return 24;
  if (ancestors.includes(value)) {
    throw new SerializationError(`Cannot cache a circular structure${at(path)} under key '${key}'`, key);
  }
  ancestors.push(value);
  let size = 2;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      size += child(k, key, `${path}<key>`, ancestors) + child(v, key, `${path}.${String(k)}`, ancestors) + 4;
    }
  } else if (value instanceof Set) {
    for (const v of value) size += child(v, key, `${path}[]`, ancestors) + 1;
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) size += child(value[i], key, `${path}[${i}]`, ancestors) + 1;
  } else {
    for (const name of Object.keys(value)) {
      size += name.length + 4 + child((value as Record<string, unknown>)[name], key, `${path}.${name}`, ancestors);
    }
  }
  ancestors.pop();
  return size;
}

function child(value: unknown, key: string, path: string, ancestors: object[]): number {
  const type = typeof value;
  if (type === 'string') return (value as string).length + 2;
  if (type === 'object' && value !== null) return walk(value as object, key, path, ancestors);
  if (type === 'function' || type === 'symbol') {
    throw new SerializationError(`Cannot cache a value of type ${type}${at(path)} under key '${key}'`, key);
  }
  return 8;
}

function at(path: string): string {
  return path ? ` at '${path.replace(/^\./, '')}'` : '';
}
