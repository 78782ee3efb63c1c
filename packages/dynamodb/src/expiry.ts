/**
 * Expiry conversion. The API speaks relative milliseconds; DynamoDB's TTL attribute must hold
 * epoch *seconds* (a Number), or the TTL sweeper ignores the item.
 *
 * Why reads filter: DynamoDB deletes expired items lazily, typically within a few days
 * (the docs say "within a few days", observed up to ~48 h), and until then GetItem, Query and Scan
 * still return them. So every read and every conditional write treats an item whose expiry has
 * passed as absent; the TTL sweeper only reclaims storage.
 */

/** Epoch seconds at which an item written now with `ttlMs` expires. Rounded up: never earlier than asked. */
export function expiresAtSeconds(ttlMs: number, nowMs: number = Date.now()): number {
  return Math.ceil((nowMs + ttlMs) / 1000);
}

/** The `:now` of condition expressions: an item is live while `expires_at > nowSeconds()`. */
export function nowSeconds(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 1000);
}

/** True when an item's expiry (epoch seconds, or undefined = never) has passed. */
export function isExpired(expiresAt: number | undefined, nowMs: number = Date.now()): boolean {
  return expiresAt !== undefined && expiresAt * 1000 <= nowMs;
}
