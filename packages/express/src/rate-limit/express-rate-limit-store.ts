import { ConfigError, type RateLimitDecision } from '@larder/core';
import type { RateLimiterLike } from './middleware';

/** The part of a `RateLimiter` the express-rate-limit store uses. */
export interface StoreLimiterLike extends RateLimiterLike {
  peek(key: string): Promise<RateLimitDecision>;
  refund(key: string): Promise<RateLimitDecision>;
  reset(key: string): Promise<void>;
}

/** Options of `ExpressRateLimitStore`. */
export interface ExpressRateLimitStoreOptions {
  /** The larder limiter that decides (`cache.rateLimiter()`); express-rate-limit's `limit` and `windowMs` must match it. */
  limiter: StoreLimiterLike;
  /** Keeps this store's keys apart from other stores' on the same limiter. @default 'erl:' */
  prefix?: string;
}

/** What express-rate-limit's `increment` and `get` resolve (its `ClientRateLimitInfo`). */
export interface ClientRateLimitInfo {
  totalHits: number;
  resetTime: Date | undefined;
}

/**
 * The `store` of express-rate-limit 7 and 8 on a larder limiter, so its decisions are larder's:
 * atomic across instances in one store round trip, on the store's clock, with `onStoreDown`.
 * express-rate-limit compares `totalHits` with its own `limit`, so the store reports an admitted
 * hit as the units used (`limit - remaining`, at least 1) and a denied one as `limit + 1`; its
 * `limit` and `windowMs` must equal the limiter's (`init` checks them). `resetTime` is when the
 * count is back to the limit, or for a denied hit when it could be admitted (`Retry-After`).
 */
export class ExpressRateLimitStore {
  /** The counts are shared through the cache's store, not kept in this process. */
  readonly localKeys = false;
  /** Prefix of this store's keys (express-rate-limit's double-count check reads it). */
  readonly prefix: string;
  readonly #limiter: StoreLimiterLike;
  /** express-rate-limit's `limit` is 0: every request is denied and nothing is counted. */
  #blockAll = false;

  constructor(options: ExpressRateLimitStoreOptions) {
    if (typeof options?.limiter?.hit !== 'function') {
      throw new ConfigError('ExpressRateLimitStore needs a limiter (cache.rateLimiter())', 'limiter');
    }
    this.#limiter = options.limiter;
    this.prefix = options.prefix ?? 'erl:';
  }

  /**
   * Called by express-rate-limit with its options: throws ConfigError when its `limit` (other
   * than 0, which blocks everyone) or `windowMs` differ from the limiter's.
   */
  init(options: { limit?: unknown; windowMs?: unknown }): void {
    const { limit, windowMs } = this.#limiter;
    // A limiter's limit is positive, so express-rate-limit's 0 is never the limiter's: it is its
    // maintenance switch, which this store honours without a limiter call (a limit of 0 is refused there).
    this.#blockAll = options.limit === 0;
    if (typeof options.limit === 'number' && options.limit !== limit && !this.#blockAll) {
      throw new ConfigError(
        `express-rate-limit's limit (${options.limit}) differs from the larder limiter's (${limit}): set limit: ${limit}`,
        'limit',
      );
    }
    if (typeof options.windowMs === 'number' && options.windowMs !== windowMs) {
      throw new ConfigError(
        `express-rate-limit's windowMs (${options.windowMs}) differs from the larder limiter's (${windowMs}): set windowMs: ${windowMs}`,
        'windowMs',
      );
    }
  }

  /** Counts a hit: one larder decision (none under `limit: 0`: the hit is over it). */
  async increment(key: string): Promise<ClientRateLimitInfo> {
    if (this.#blockAll) return { totalHits: 1, resetTime: at(this.#limiter.windowMs) };
    const decision = await this.#limiter.hit(this.prefix + key);
    const limit = this.#limiter.limit;
    if (!decision.allowed) return { totalHits: limit + 1, resetTime: at(decision.retryAfterMs) };
    return { totalHits: Math.max(1, limit - decision.remaining), resetTime: at(decision.resetMs) };
  }

  /** Gives back a hit (express-rate-limit's `skipSuccessfulRequests` / `skipFailedRequests`). */
  async decrement(key: string): Promise<void> {
    // Under `limit: 0` the hit was not counted: a refund would give back someone else's unit.
    if (this.#blockAll) return;
    await this.#limiter.refund(this.prefix + key);
  }

  /** Forgets the key's count. */
  async resetKey(key: string): Promise<void> {
    await this.#limiter.reset(this.prefix + key);
  }

  /** The key's count now (counts nothing). */
  async get(key: string): Promise<ClientRateLimitInfo> {
    const decision = await this.#limiter.peek(this.prefix + key);
    return { totalHits: this.#limiter.limit - decision.remaining, resetTime: at(decision.resetMs) };
  }

  /** Nothing to release: the cache belongs to the application, which closes it. */
  async shutdown(): Promise<void> {}
}

function at(ms: number): Date {
  return new Date(Date.now() + ms);
}
