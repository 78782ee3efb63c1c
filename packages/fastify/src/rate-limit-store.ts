import { type Cache, ConfigError, type RateLimiter, type RateLimiterOptions, type StoreDownMode } from '@larder/core';

/** Options of `rateLimitStore`. */
export interface RateLimitStoreOptions {
  /** The cache whose store keeps the counts (shared by every app instance on it). */
  cache: Cache;
  /** How hits are counted. @default 'fixed' */
  algorithm?: RateLimiterOptions['algorithm'];
  /** When the store is down: `'closed'` denies, `'open'` allows, `'local'` limits in-process. @default 'closed' */
  onStoreDown?: StoreDownMode;
  /** Keeps this store's counts apart from other stores' on the same cache. @default 'frl' */
  name?: string;
}

/** What `incr` and `read` answer @fastify/rate-limit: units used (over `max` when denied) and ms until a retry. */
export interface RateLimitCount {
  current: number;
  ttl: number;
}

type Callback = (error: Error | null, result?: RateLimitCount) => void;

/** The store class @fastify/rate-limit constructs (`new Store(options)`). */
export type RateLimitStoreClass = new (options?: unknown) => LarderFastifyRateLimitStore;

/** One limiter per `max` and `timeWindow` (both may be per request in @fastify/rate-limit). */
class Limiters {
  readonly #byShape = new Map<string, RateLimiter>();

  constructor(private readonly options: RateLimitStoreOptions) {}

  of(max: number, timeWindow: number): RateLimiter {
    const shape = `${max}/${timeWindow}`;
    let limiter = this.#byShape.get(shape);
    if (!limiter) {
      limiter = this.options.cache.rateLimiter({
        limit: max,
        window: timeWindow,
        algorithm: this.options.algorithm ?? 'fixed',
        onStoreDown: this.options.onStoreDown ?? 'closed',
        name: this.options.name ?? 'frl',
      });
      this.#byShape.set(shape, limiter);
    }
    return limiter;
  }
}

/**
 * A @fastify/rate-limit store on a larder cache: each `incr` is one larder decision — one atomic
 * store round trip on the store's clock, shared by every instance — so a denied hit is not
 * counted, and the limiter's `onStoreDown` answers when the store is down or hung (its timeout).
 * `max: 0` denies without a store call. `child` gives a route its own counts.
 */
export class LarderFastifyRateLimitStore {
  constructor(
    private readonly limiters: Limiters,
    private readonly prefix: string,
  ) {}

  /** Counts a hit of `key` against `max` per `timeWindow` ms. */
  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.#decide('hit', key, timeWindow, max).then(
      (count) => callback(null, count),
      (error: Error) => callback(error),
    );
  }

  /** The count of `key` now (counts nothing; @fastify/rate-limit's `{ increment: false }`). */
  read(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.#decide('peek', key, timeWindow, max).then(
      (count) => callback(null, count),
      (error: Error) => callback(error),
    );
  }

  /** A store for one route's own limit (its counts apart from the others'). */
  child(routeOptions: object): LarderFastifyRateLimitStore {
    refuseUnsupported(routeOptions);
    const info = (routeOptions as { routeInfo?: { method?: string; url?: string } }).routeInfo;
    const route = `${info?.method ?? ''}${info?.url ?? ''}`;
    return new LarderFastifyRateLimitStore(this.limiters, `${this.prefix}${route}-`);
  }

  async #decide(op: 'hit' | 'peek', key: string, timeWindow: number, max: number): Promise<RateLimitCount> {
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new ConfigError(`rate limit max must be a non-negative integer, got ${max}`, 'max');
    }
    if (!Number.isSafeInteger(timeWindow) || timeWindow <= 0) {
      throw new ConfigError(`rate limit timeWindow must be a positive integer (ms), got ${timeWindow}`, 'timeWindow');
    }
    // max 0 blocks everyone: nothing is counted.
    if (max === 0) return { current: 1, ttl: timeWindow };
    const limiter = this.limiters.of(max, timeWindow);
    const decision = op === 'hit' ? await limiter.hit(this.prefix + key) : await limiter.peek(this.prefix + key);
    if (op === 'hit' && !decision.allowed) return { current: max + 1, ttl: decision.retryAfterMs };
    const used = max - decision.remaining;
    return { current: op === 'hit' ? Math.max(1, used) : used, ttl: decision.resetMs };
  }
}

/** The `store` class for @fastify/rate-limit on a larder cache (see `LarderFastifyRateLimitStore`). */
export function rateLimitStore(options: RateLimitStoreOptions): RateLimitStoreClass {
  if (typeof options?.cache?.rateLimiter !== 'function') {
    throw new ConfigError('rateLimitStore needs { cache }: a Cache from @larder/core', 'cache');
  }
  const limiters = new Limiters(options);
  // The options are validated now (the limiter's InvalidArgumentError), not on a first request.
  limiters.of(1, 1000);
  return class extends LarderFastifyRateLimitStore {
    constructor(params?: unknown) {
      refuseUnsupported(params);
      super(limiters, `${options.name ?? 'frl'}:`);
    }
  };
}

/**
 * @fastify/rate-limit leaves `continueExceeding`, `exponentialBackoff` and the count behind `ban`
 * to its store. A larder decision does not count a refused hit and keeps its window, so these are
 * refused here rather than ignored (`ban: 0`, a 403 on the first refused hit, needs no count).
 */
function refuseUnsupported(params: unknown): void {
  const { continueExceeding, exponentialBackoff, ban } = (params ?? {}) as Record<string, unknown>;
  for (const [name, on] of [
    ['continueExceeding', continueExceeding === true],
    ['exponentialBackoff', exponentialBackoff === true],
    ['ban', typeof ban === 'number' && ban > 0],
  ] as const) {
    if (on) throw new ConfigError(`rateLimitStore does not support @fastify/rate-limit's ${name} option`, name);
  }
}
