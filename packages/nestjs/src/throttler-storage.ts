import {
  type Cache,
  ConfigError,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimiterOptions,
  type StoreDownMode,
} from '@larder/core';
import type { ThrottlerStorage } from '@nestjs/throttler';

/** What `increment` resolves (@nestjs/throttler's `ThrottlerStorageRecord`, not exported by its index). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Options of `LarderThrottlerStorage`. */
export interface LarderThrottlerStorageOptions {
  /** How hits are counted within `ttl` (`'sliding'`, as @nestjs/throttler's own storage counts, on memory and Redis only). @default 'fixed' (every store) */
  algorithm?: RateLimiterOptions['algorithm'];
  /** When the store is down or hung (the cache's timeout): `'closed'` denies (429), `'open'` admits, `'local'` limits in each process. @default 'closed' */
  onStoreDown?: StoreDownMode;
  /** Keeps this storage's counts apart from other storages' on the same cache. @default 'nest' */
  name?: string;
}

const SECOND = 1000;

/**
 * A @nestjs/throttler `ThrottlerStorage` on a larder cache: each decision is one atomic call on
 * the cache's store (`cache.rateLimiter()`), on the store's clock and shared by every instance,
 * so concurrent requests never admit more than the limit. With a `blockDuration` the key's block
 * is a second limiter (limit 1 per `blockDuration`), read before each hit: the first hit over the
 * limit starts it, and every hit is refused (and not counted) until it ends (see the README).
 */
export class LarderThrottlerStorage implements ThrottlerStorage {
  readonly #cache: Cache;
  readonly #options: Required<LarderThrottlerStorageOptions>;
  readonly #limiters = new Map<string, RateLimiter>();

  constructor(cache: Cache, options: LarderThrottlerStorageOptions = {}) {
    if (typeof cache?.rateLimiter !== 'function') {
      throw new ConfigError('LarderThrottlerStorage needs a Cache from @larder/core', 'cache');
    }
    this.#cache = cache;
    this.#options = {
      algorithm: options.algorithm ?? 'fixed',
      onStoreDown: options.onStoreDown ?? 'closed',
      name: options.name ?? 'nest',
    };
    // The options are validated here (the limiter's InvalidArgumentError), not on a request.
    this.#limiter('hits', 1, SECOND, this.#options.algorithm);
    this.#limiter('block', 1, SECOND, 'fixed');
  }

  /** Counts a hit of `key` against `limit` per `ttl` ms; a hit over it blocks the key for `blockDuration` ms (0: no block). */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    _throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    checkWhole(ttl, 'ttl', 1);
    checkWhole(limit, 'limit', 0);
    checkWhole(blockDuration, 'blockDuration', 0);
    // limit 0 refuses everyone (a maintenance switch): nothing is counted.
    if (limit === 0) return denied(1, ttl, Math.max(ttl, blockDuration));
    const hits = this.#limiter('hits', limit, ttl, this.#options.algorithm);
    if (blockDuration === 0) {
      // @nestjs/throttler's `blockDuration: 0`: a refused hit waits for the window, nothing more.
      const decision = await hits.hit(key);
      return decision.allowed ? admitted(decision) : denied(limit + 1, decision.resetMs, decision.retryAfterMs);
    }
    const block = this.#limiter('block', 1, blockDuration, 'fixed');
    // The block is read before the hit, never beside it: a hit the window admitted, then refused
    // because a block started meanwhile (by a hit after it), would admit less than the limit.
    const blocked = await block.peek(key);
    if (!blocked.allowed) return denied(limit + 1, blocked.retryAfterMs, blocked.retryAfterMs);
    const decision = await hits.hit(key);
    if (decision.allowed) return admitted(decision);
    // The first refused hit starts the block; concurrent ones find it started (limit 1).
    const started = await block.hit(key);
    return denied(limit + 1, decision.resetMs, started.allowed ? blockDuration : started.retryAfterMs);
  }

  /** One limiter per kind and shape, made once (limiters of the same name share counts per key). */
  #limiter(kind: 'hits' | 'block', limit: number, windowMs: number, algorithm: RateLimiterOptions['algorithm']) {
    const shape = `${kind}/${limit}/${windowMs}`;
    let limiter = this.#limiters.get(shape);
    if (limiter === undefined) {
      limiter = this.#cache.rateLimiter({
        limit,
        window: windowMs,
        algorithm,
        onStoreDown: this.#options.onStoreDown,
        name: kind === 'hits' ? this.#options.name : `${this.#options.name}-block`,
      });
      this.#limiters.set(shape, limiter);
    }
    return limiter;
  }
}

/** An admitted hit: the units used, and the seconds until the count is back to the limit. */
function admitted(decision: RateLimitDecision): ThrottlerStorageRecord {
  return {
    totalHits: Math.max(1, decision.limit - decision.remaining),
    timeToExpire: seconds(decision.resetMs),
    isBlocked: false,
    timeToBlockExpire: 0,
  };
}

/** A refused hit: @nestjs/throttler sends `Retry-After: timeToBlockExpire` (seconds, at least 1). */
function denied(totalHits: number, resetMs: number, retryAfterMs: number): ThrottlerStorageRecord {
  return {
    totalHits,
    timeToExpire: seconds(resetMs),
    isBlocked: true,
    timeToBlockExpire: Math.max(1, seconds(retryAfterMs)),
  };
}

function seconds(ms: number): number {
  return Math.ceil(ms / SECOND);
}

function checkWhole(value: number, name: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(
      `@nestjs/throttler's ${name} must be an integer of at least ${min} (milliseconds), got ${value}`,
      name,
    );
  }
}
