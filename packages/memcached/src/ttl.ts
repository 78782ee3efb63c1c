/** Memcached reads an expiration above 30 days as an absolute Unix time, not a relative one. */
export const MAX_RELATIVE_EXPIRATION_S = 60 * 60 * 24 * 30;

/**
 * Converts a relative TTL in ms to memcached's expiration field: 0 (never) for `undefined`,
 * else whole seconds rounded up (memcached counts in seconds, and rounding down could make a
 * 400 ms TTL mean "never"); above 30 days it is sent as absolute Unix time, because memcached
 * would otherwise read e.g. 40 days worth of seconds as a date in 1970 and expire at once.
 */
export function toExpiration(ttlMs: number | undefined, nowMs?: number): number {
  if (ttlMs === undefined) return 0;
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  if (seconds <= MAX_RELATIVE_EXPIRATION_S) return seconds;
  // The clock is read only here: every write of a relative TTL skips it.
  const absolute = Math.ceil((nowMs ?? Date.now()) / 1000) + seconds;
  // The field is an unsigned 32-bit integer (good until 2106).
  return Math.min(absolute, 0xffff_ffff);
}
