import { type Cache, ConfigError, type RateLimiter, type RateLimiterOptions, type StoreDownMode } from '@larder/core';

/** Options of `rateLimitStore`. */
export interface RateLimitStoreOptions {
  /** The cache whose store keeps the counts (shared by every app instance on it). */
  cache: Cache;
  /** How hits are counted when hono-rate-limiter's `limit` is a number. @default 'fixed' */
  algorithm?: RateLimiterOptions['algorithm'];
  /** When the store is down: `'closed'` denies, `'open'` allows, `'local'` limits in-process. @default 'closed' */
  onStoreDown?: StoreDownMode;
  /** Keeps this store's counts apart from other stores' on the same cache. @default 'hrl' */
  name?: string;
}

/** What hono-rate-limiter's `increment` and `get` resolve. */
export interface ClientRateLimitInfo {
  totalHits: number;
  resetTime: Date | undefined;
}

// A `limit` that is a function is known only per request: the store then counts every hit
// (one atomic increment on a limiter that never refuses) and hono-rate-limiter compares.
const COUNTING_LIMIT = 1_000_000_000;

/**
 * The `store` of hono-rate-limiter (express-rate-limit's store contract) on a larder cache: every
 * decision is one atomic store round trip, on the store's clock, shared by every instance. With a
 * numeric `limit` the larder limiter decides (a denied hit is not counted; `limit: 0` blocks
 * everyone without a call); with a function `limit` each hit is counted and compared by the caller.
 */
export class LarderRateLimitStore {
  /** The counts are shared through the cache's store, not kept in this process. */
  readonly localKeys = false;
  /** Prefix of this store's keys (the double-count check reads it). */
  readonly prefix: string;
  readonly #options: RateLimitStoreOptions;
  #limiter: RateLimiter | undefined;
  #blockAll = false;

  constructor(options: RateLimitStoreOptions) {
    if (typeof options?.cache?.rateLimiter !== 'function') {
      throw new ConfigError('rateLimitStore needs { cache }: a Cache from @larder/core', 'cache');
    }
    this.#options = options;
    this.prefix = `${options.name ?? 'hrl'}:`;
  }

  /** Called by hono-rate-limiter with its options; a `windowMs` that is not a positive integer is a ConfigError. */
  init(options: { limit?: unknown; windowMs?: unknown }): void {
    const { windowMs, limit } = options;
    if (typeof windowMs !== 'number' || !Number.isSafeInteger(windowMs) || windowMs <= 0) {
      throw new ConfigError(`rateLimitStore needs a positive integer windowMs, got ${String(windowMs)}`, 'windowMs');
    }
    this.#blockAll = limit === 0;
    const fixed = typeof limit === 'number';
    if (fixed && !this.#blockAll && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new ConfigError(
        `rateLimitStore needs a limit that is a non-negative integer or a function, got ${limit}`,
        'limit',
      );
    }
    this.#limiter = this.#options.cache.rateLimiter({
      limit: fixed && !this.#blockAll ? limit : COUNTING_LIMIT,
      window: windowMs,
      algorithm: fixed ? (this.#options.algorithm ?? 'fixed') : 'fixed',
      onStoreDown: this.#options.onStoreDown ?? 'closed',
      name: this.#options.name ?? 'hrl',
    });
  }

  /** Counts a hit: one larder decision (none under `limit: 0`: the hit is over it). */
  async increment(key: string): Promise<ClientRateLimitInfo> {
    const limiter = this.#ready();
    if (this.#blockAll) return { totalHits: 1, resetTime: at(limiter.windowMs) };
    const decision = await limiter.hit(this.prefix + key);
    if (!decision.allowed) return { totalHits: limiter.limit + 1, resetTime: at(decision.retryAfterMs) };
    return { totalHits: Math.max(1, limiter.limit - decision.remaining), resetTime: at(decision.resetMs) };
  }

  /** Gives back a hit (`skipSuccessfulRequests` / `skipFailedRequests`). */
  async decrement(key: string): Promise<void> {
    if (this.#blockAll) return;
    await this.#ready().refund(this.prefix + key);
  }

  /** Forgets the key's count. */
  async resetKey(key: string): Promise<void> {
    await this.#ready().reset(this.prefix + key);
  }

  /** The key's count now (counts nothing). */
  async get(key: string): Promise<ClientRateLimitInfo> {
    const limiter = this.#ready();
    const decision = await limiter.peek(this.prefix + key);
    return { totalHits: limiter.limit - decision.remaining, resetTime: at(decision.resetMs) };
  }

  #ready(): RateLimiter {
    if (!this.#limiter)
      throw new ConfigError('rateLimitStore was not given to rateLimiter() (init was not called)', 'store');
    return this.#limiter;
  }
}

/** A hono-rate-limiter `store` on a larder cache (see `LarderRateLimitStore`). */
export function rateLimitStore(options: RateLimitStoreOptions): LarderRateLimitStore {
  return new LarderRateLimitStore(options);
}

function at(ms: number): Date {
  return new Date(Date.now() + ms);
}
