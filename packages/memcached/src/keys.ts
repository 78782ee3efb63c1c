import { createHash } from 'node:crypto';

/** Memcached's longest key, in bytes. */
export const MAX_MEMCACHED_KEY_BYTES = 250;
/** Bytes of the original key kept readable in front of the hash. */
const READABLE_PREFIX_BYTES = 200;
/** Length of a SHA-256 digest in base64url (no padding). */
const DIGEST_CHARS = 43;
const HASH_MARK = 0x23; // '#'
/** Leads the hash input of an ill-formed key; never a byte of UTF-8, so it cannot equal a well-formed key's input. */
const ILL_FORMED_TAG = Buffer.from([0xff]);

/**
 * Maps a larder key to a key memcached accepts, injectively: two different keys never share a
 * stored key. Keys up to 250 bytes without whitespace or control bytes pass unchanged; others
 * become `<readable prefix>#<sha256 base64url>`, stable across processes and machines, so every
 * client finds the same item. The prefix keeps the key recognisable in `stats cachedump`/logs
 * (its invalid characters replaced by `_`). Two rules keep literal and hashed keys apart:
 * - a key shaped like a hashed one (`#` then 43 characters at its end) is hashed itself, so
 *   no literal key equals a hashed key (`'user 1'` is stored as `user_1#…`, and the literal
 *   string `user_1#…` is hashed to something else);
 * - a key with a lone surrogate is hashed from its UTF-16 code units (UTF-8 would turn the
 *   surrogate into U+FFFD, the key `'x\uFFFD'`), its prefix showing `_` for the surrogate.
 */
export function toMemcachedKey(key: string): string {
  if (isValidMemcachedKey(key) && !looksHashed(key)) return key;
  return `${readablePrefix(key)}#${digest(key)}`;
}

/**
 * True when memcached accepts the key as is (both protocols: ≤ 250 bytes, no space/control bytes)
 * and UTF-8 can carry it (no lone surrogate).
 */
export function isValidMemcachedKey(key: string): boolean {
  if (key.length === 0) return false;
  // Fast path: UTF-16 length × 3 bounds the UTF-8 length.
  if (key.length * 3 > MAX_MEMCACHED_KEY_BYTES && Buffer.byteLength(key) > MAX_MEMCACHED_KEY_BYTES) return false;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return false;
  }
  return isWellFormed(key);
}

/** True when `key` has the shape of a hashed key (`#` 43 characters before its end). */
export function looksHashed(key: string): boolean {
  return key.length > DIGEST_CHARS && key.charCodeAt(key.length - DIGEST_CHARS - 1) === HASH_MARK;
}

function digest(key: string): string {
  const hash = createHash('sha256');
  // Well-formed keys hash their UTF-8 bytes (as always: stored items keep their names).
  if (isWellFormed(key)) return hash.update(key).digest('base64url');
  return hash.update(ILL_FORMED_TAG).update(Buffer.from(key, 'utf16le')).digest('base64url');
}

function isWellFormed(key: string): boolean {
  // String#isWellFormed is in Node ≥ 20 (ES2024; the tree's lib is ES2023).
  return (key as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function readablePrefix(key: string): string {
  let out = '';
  let bytes = 0;
  for (const char of key) {
    const code = char.codePointAt(0)!;
    const safe = code <= 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff) ? '_' : char;
    const size = Buffer.byteLength(safe);
    if (bytes + size > READABLE_PREFIX_BYTES) break;
    out += safe;
    bytes += size;
  }
  return out;
}
