/**
 * The rate-limit part of the driver contract (`CacheStore.rateLimit`). A store answers one
 * question about one key atomically, in one round trip, on its own clock: the facade's
 * `RateLimiter` (limiter.ts) validates the input, builds the key and handles the store being down.
 */

/** How a limiter counts: see the README ("Rate limits") for what each admits at a window edge. */
export type RateLimitAlgorithm = 'fixed' | 'sliding' | 'token-bucket';

/** What is asked of the store about one key. */
export type RateLimitOperation =
  /** Count `cost` units if they fit, and say whether they did. */
  | 'hit'
  /** Say whether `cost` units would fit, counting nothing. */
  | 'peek'
  /** Give back `cost` units counted by an earlier hit (never below zero). */
  | 'refund'
  /** Forget the key's count. */
  | 'reset';

/** One request to `CacheStore.rateLimit`; the facade has validated every field. */
export interface RateLimitRequest {
  readonly op: RateLimitOperation;
  readonly algorithm: RateLimitAlgorithm;
  /** Units admitted per window; for the token bucket its capacity, refilled at `limit` per window. A positive safe integer. */
  readonly limit: number;
  /** The window in whole milliseconds (> 0). */
  readonly windowMs: number;
  /** Units this request weighs: an integer from 1 to `limit` (`reset` ignores it). */
  readonly cost: number;
}

/** The store's answer, measured on the store's clock. Every number is a whole, non-negative number. */
export interface RateLimitReply {
  /** `hit`: the units were admitted (and counted). `peek`: they would be. `refund`/`reset`: true. */
  readonly allowed: boolean;
  /** Units that would still be admitted now (after this hit when it was admitted). */
  readonly remaining: number;
  /** Milliseconds until `remaining` is back to `limit` (0: it is). */
  readonly resetMs: number;
  /** Milliseconds until a hit of `cost` could be admitted (0 when allowed). */
  readonly retryAfterMs: number;
}
