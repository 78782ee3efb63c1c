import { InvalidTtlError } from '@larder/core';
import type { SessionCookie, SessionData } from './envelope';

/**
 * Absolute expiry (epoch ms) a save asks for: the cookie's `expires`, else its `maxAge`, else the
 * store's `ttl`. An invalid `expires` (`new Date(NaN)`, an unparsable string) is ignored; it also
 * makes express-session's derived `maxAge` NaN, so `originalMaxAge` is tried next. A `maxAge`
 * that is negative, zero, NaN or infinite is an `InvalidTtlError` (nothing is written or deleted).
 */
export function requestedExpiry(cookie: SessionCookie | null | undefined, now: number, ttlMs: number): number {
  const expires = cookie?.expires;
  const at =
    expires instanceof Date ? expires.getTime() : typeof expires === 'string' ? Date.parse(expires) : Number.NaN;
  if (!Number.isNaN(at)) return at;
  const maxAge = cookie?.maxAge;
  if (isLifetime(maxAge)) return now + maxAge;
  const invalidExpires = expires !== undefined && expires !== null;
  if (maxAge !== undefined && maxAge !== null && !invalidExpires) throw new InvalidTtlError(maxAge);
  const original = cookie?.originalMaxAge;
  if (isLifetime(original)) return now + original;
  return now + ttlMs;
}

function isLifetime(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0;
}

/**
 * Makes a session read back from the backend carry the latest expiry the store knows for it, and
 * says whether it is still live. The backend decides liveness (it hides expired items), but its
 * expiry is pushed lazily, so the stored cookie's `expires` (from the last full write) can be in
 * the past for a session an active user keeps alive. The cookie's `expires` becomes the later of
 * the stored one and `knownExpiry` (the latest expiry a save or touch in this process asked for,
 * written or skipped). If that has passed although the backend still holds the session:
 * - a cookie with a lifetime (`originalMaxAge`) was pushed by another instance, which never asks
 *   for more than now + lifetime: it reads as `now + originalMaxAge`, what express-session and
 *   @fastify/session set on load anyway;
 * - a fixed expiry has really passed: the backend is late by less than its TTL precision
 *   (memcached and DynamoDB count seconds), so the session is over.
 */
export function followExpiry(session: SessionData, knownExpiry: number, now: number): boolean {
  const cookie = session.cookie;
  // No expiry in the cookie (a browser-session cookie, or none): the backend's TTL alone decides.
  if (!cookie || cookie.expires === undefined || cookie.expires === null) return true;
  const stored = typeof cookie.expires === 'string' ? Date.parse(cookie.expires) : new Date(cookie.expires).getTime();
  let at = Number.isNaN(stored) ? knownExpiry : Math.max(stored, knownExpiry);
  if (at <= now) {
    if (!isLifetime(cookie.originalMaxAge)) return false;
    at = now + cookie.originalMaxAge;
  }
  if (at !== stored) cookie.expires = new Date(at).toISOString();
  return true;
}
