import { describe, InvalidKeyError } from '../contract/errors';
import { codeAt, wellFormed } from './string-calls';

/**
 * Reserved key namespace of a cache (right after its prefix): larder's own entries live there —
 * `lock(name)` under `__larder:lock:` and `remember`'s cross-process locks under
 * `__larder:remember:` — so user keys, which may not start with it, can never collide with them.
 * Printable on purpose: memcached would hash a key holding control bytes.
 */
export const RESERVED_KEY_PREFIX = '__larder:';
/** Sub-prefix of `lock(name)` keys. */
export const LOCK_KEY_PREFIX = `${RESERVED_KEY_PREFIX}lock:`;
/** Sub-prefix of `remember(..., { lock })` keys. */
export const REMEMBER_LOCK_KEY_PREFIX = `${RESERVED_KEY_PREFIX}remember:`;
/** Where a tag's version counter lives under the store prefix (`tags/`). */
export const TAG_KEY_PREFIX = `${RESERVED_KEY_PREFIX}tag:`;
const UNDERSCORE = 95;

/**
 * Throws `InvalidKeyError` unless `key` is a non-empty, well-formed string (no lone surrogate:
 * UTF-8 backends store one as U+FFFD, so `'x\uD800'` and `'x\uFFFD'` would share a key) outside
 * the reserved `__larder:` namespace.
 */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError(`Cache keys must be non-empty strings, got ${describe(key)}`, key);
  }
  if (!wellFormed(key)) {
    throw new InvalidKeyError(
      `Key ${describe(key)} is not well-formed UTF-16 (a lone surrogate has no UTF-8 encoding)`,
      key,
    );
  }
  // One char read for almost every key; the full check only for keys starting with '_'.
  if (codeAt(key, 0) === UNDERSCORE && key.startsWith(RESERVED_KEY_PREFIX)) {
    throw new InvalidKeyError(
      `Key ${describe(key)} is in the reserved namespace '${RESERVED_KEY_PREFIX}' (larder's locks live there)`,
      key,
    );
  }
}

/**
 * Returns `prefix + key`, or throws `InvalidKeyError` when the key is not a non-empty string or
 * the full key is longer than `maxKeyBytes` in UTF-8.
 */
export function toFullKey(prefix: string, key: unknown, maxKeyBytes: number, driver: string): string {
  assertKey(key);
  const full = prefix + key;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long keys need the byte count.
  if (full.length * 3 > maxKeyBytes) checkKeyBytes(full, key, maxKeyBytes, driver);
  return full;
}

/** Throws `InvalidKeyError` when the full key `full` (made from `key`) is longer than `maxKeyBytes` in UTF-8. */
export function checkKeyBytes(full: string, key: string, maxKeyBytes: number, driver: string): void {
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
}

/** Throws `InvalidKeyError` unless a namespace name is a non-empty string outside the reserved namespace. */
export function assertNamespace(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name === ':') {
    throw new InvalidKeyError(`Namespace names must be non-empty strings, got ${describe(name)}`, name);
  }
  if (`${name}:`.startsWith(RESERVED_KEY_PREFIX)) {
    throw new InvalidKeyError(
      `Namespace ${describe(name)} is in the reserved namespace '${RESERVED_KEY_PREFIX}'`,
      name,
    );
  }
}

/** Appends the ':' separator to a non-empty prefix (or namespace name) that lacks it, so `app` never clears `apple:`. */
export function withSeparator(prefix: string): string {
  return prefix === '' || prefix.endsWith(':') ? prefix : `${prefix}:`;
}

/** Keys per generation of the memo: it holds at most twice as many. */
const FULL_KEY_MEMO_GENERATION = 8192;
/** A generation with more than 1 miss in this many of its calls did not hold the keys in use. */
const FULL_KEY_MEMO_CALLS_PER_MISS = 8;
/** Calls that then build full keys directly, before the memo is tried again. */
const FULL_KEY_MEMO_PAUSE = 16 * FULL_KEY_MEMO_GENERATION;

/**
 * Full keys of one prefix, memoized for in-process stores. A fresh `prefix + key` is a new
 * string that the store's Map must flatten and hash on every call, about half the cost of an
 * in-process `get` over a small key set; a remembered one is flat with its hash cached.
 * Bounded in two generations: when the young one is full it becomes the old one and the
 * previous old one is dropped, and a key found in the old one moves back to the young one, so
 * hot keys stay remembered on any key set (clearing the whole memo when full forgot them too).
 * Only worth it while it holds the keys in use: on a key set much larger than the memo (100,000
 * keys and up, even Zipf-skewed) its misses, inserts and dropped generations cost more than the
 * hits save (measured: a `get` 30-40% slower than without it). So a generation that ended with
 * more than 1 miss in 8 of its calls pauses the memo for `FULL_KEY_MEMO_PAUSE` calls, after which it
 * learns again (misses per call, not per key remembered: a 10,000-key set refills a generation with
 * ~1,500 misses in ~17,000 calls, 1 in 11, and keeps its memo). The first generation, which starts
 * with nothing to find, is no verdict.
 */
export class FullKeyMemo {
  #young = new Map<unknown, string>();
  #old = new Map<unknown, string>();
  #maxKeyBytes = Number.NaN;
  /** Misses and calls in the young generation so far. */
  #misses = 0;
  #calls = 0;
  /** Calls left to serve without the memo. */
  #paused = 0;

  constructor(readonly prefix: string) {}

  /** `toFullKey(prefix, key, ...)`, validated once per remembered key. */
  of(key: unknown, maxKeyBytes: number, driver: string): string {
    if (this.#paused > 0) {
      this.#paused--;
      return toFullKey(this.prefix, key, maxKeyBytes, driver);
    }
    // The key limit is only known once the store resolves: keys checked against another limit are forgotten.
    if (maxKeyBytes !== this.#maxKeyBytes) {
      this.#young.clear();
      this.#old.clear();
      this.#maxKeyBytes = maxKeyBytes;
    }
    this.#calls++;
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    let full = this.#old.get(key);
    if (full === undefined) {
      full = toFullKey(this.prefix, key, maxKeyBytes, driver);
      this.#misses++;
    }
    if (this.#young.size >= FULL_KEY_MEMO_GENERATION) this.#nextGeneration();
    this.#young.set(key, full);
    return full;
  }

  /** Whether the memo is paused (tests). */
  get paused(): boolean {
    return this.#paused > 0;
  }

  #nextGeneration(): void {
    const judged = this.#old.size > 0;
    if (judged && this.#misses * FULL_KEY_MEMO_CALLS_PER_MISS > this.#calls) this.#paused = FULL_KEY_MEMO_PAUSE;
    this.#old = this.#young;
    this.#young = new Map();
    this.#misses = 0;
    this.#calls = 0;
  }
}
