import { isLarderError, type LarderError, SerializationError } from '../contract/errors';
import { jsonSize, refusalError } from './json-walk';

const INPUT_CODES: readonly string[] = [
  'E_INVALID_KEY',
  'E_INVALID_TTL',
  'E_SERIALIZATION',
  'E_VALUE_TOO_LARGE',
  'E_UNSUPPORTED_OPERATION',
  'E_CONFIG',
  'E_DRIVER_NOT_FOUND',
  'E_INVALID_ARGUMENT',
  'E_VALUE_STEP_MISSING',
  'E_DECRYPTION',
  'E_CHUNKED_VALUE',
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
 * nesting too deep to walk anywhere — with `SerializationError`, so every driver accepts the same
 * values. Returns the size the JSON codec would give the value: exact for strings (quotes
 * included, escapes not) and binary (marker byte included), an estimate for objects (the JSON
 * walker's, `json-walk.ts`), so `maxValueBytes` means the same with and without the codec.
 */
export function rawValueSize(value: unknown, key: string, maxBytes: number): number {
  const type = typeof value;
  if (type === 'string') {
    const text = value as string;
    return text.length * 3 + 2 <= maxBytes ? text.length + 2 : Buffer.byteLength(text) + 2;
  }
  if (type === 'boolean' || type === 'bigint' || type === 'number' || value === null) return 8;
  if (type === 'object' && ArrayBuffer.isView(value)) return value.byteLength + 1;
  let size = -1;
  let thrown: unknown;
  try {
    if (type === 'object') size = jsonSize(value);
  } catch (error) {
    // A getter threw or the nesting overflowed the stack: the error below says which.
    thrown = error ?? new Error(String(error));
  }
  if (size >= 0) return size;
  throw refusalError(
    value,
    key,
    () => new SerializationError(`Cannot cache the value under key '${key}': reading it failed`, key),
    thrown,
  );
}
