import { createHash } from 'node:crypto';

/** Memcached's longest key, in bytes. */
export const MAX_MEMCACHED_KEY_BYTES = 250;
/** Bytes of the original key kept readable in front of the hash. */
const READABLE_PREFIX_BYTES = 200;

/**
 * Maps a larder key to a key memcached accepts. Keys up to 250 bytes without whitespace or
 * control bytes pass unchanged; others become `<readable prefix>#<sha256 base64url>`, stable
 * across processes and machines, so every client finds the same item. The prefix keeps the
 * key recognisable in `stats cachedump`/logs (its invalid characters replaced by `_`).
 */
export function toMemcachedKey(key: string): string {
  if (isValidMemcachedKey(key)) return key;
  const digest = createHash('sha256').update(key).digest('base64url');
  return `${readablePrefix(key)}#${digest}`;
}

/** True when memcached accepts the key as is (both protocols: ≤ 250 bytes, no space/control bytes). */
export function isValidMemcachedKey(key: string): boolean {
  if (key.length === 0) return false;
  // Fast path: UTF-16 length × 3 bounds the UTF-8 length.
  if (key.length * 3 > MAX_MEMCACHED_KEY_BYTES && Buffer.byteLength(key) > MAX_MEMCACHED_KEY_BYTES) return false;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return false;
  }
  return true;
}

function readablePrefix(key: string): string {
  let out = '';
  let bytes = 0;
  for (const char of key) {
    const code = char.codePointAt(0)!;
    const safe = code <= 0x20 || code === 0x7f ? '_' : char;
    const size = Buffer.byteLength(safe);
    if (bytes + size > READABLE_PREFIX_BYTES) break;
    out += safe;
    bytes += size;
  }
  return out;
}
