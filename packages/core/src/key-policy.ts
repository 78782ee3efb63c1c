import { describe, InvalidKeyError } from './errors';

/** Throws `InvalidKeyError` unless `key` is a non-empty string. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError(`Cache keys must be non-empty strings, got ${describe(key)}`, key);
  }
}

/**
 * Returns `prefix + key`, or throws `InvalidKeyError` when the key is not a non-empty string or
 * the full key is longer than `maxKeyBytes` in UTF-8.
 */
export function toFullKey(prefix: string, key: unknown, maxKeyBytes: number, driver: string): string {
  assertKey(key);
  const full = prefix + key;
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short keys need no byte count.
  if (full.length * 3 > maxKeyBytes) {
    const bytes = Buffer.byteLength(full);
    if (bytes > maxKeyBytes) {
      throw new InvalidKeyError(
        `Key ${describe(key)} is ${bytes} bytes with its prefix; the ${driver} driver accepts at most ${maxKeyBytes}`,
        key,
      );
    }
  }
  return full;
}

/** Throws `InvalidKeyError` unless a namespace name is a non-empty string. */
export function assertNamespace(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidKeyError(`Namespace names must be non-empty strings, got ${describe(name)}`, name);
  }
}
