import { InvalidArgumentError, isLarderError, UnsupportedOperationError } from '../contract/errors';
import type { RateLimitOperation, RateLimitReply, RateLimitRequest } from '../contract/rate-limit';
import type { CacheStore } from '../contract/store';
import { withTimeout } from '../util/timeout';
import { operationChannel } from '../util/tracing';
import { assertKey, checkKeyBytes } from '../values/key-policy';
import { isInputError } from '../values/value-policy';
import { LocalLimiter } from './local-limiter';
import {
  checkCost,
  type RateLimiterOptions,
  type ResolvedRateLimit,
  resolveRateLimit,
  type StoreDownMode,
} from './options';

/** What a limiter needs from the cache that made it. */
export interface RateLimitHost {
  /** The store (a promise until it is ready; rejects when it could not be made). */
  store(): CacheStore | Promise<CacheStore>;
  /** The cache's store prefix followed by the reserved rate-limit namespace, e.g. `app:__larder:rate:`. */
  readonly keyPrefix: string;
  /** The namespace path of the cache (`''` at the root, `users:` in `namespace('users')`). */
  readonly path: string;
  /** The facade's timer in ms for this store's calls (0: none — an in-process store, or one that bounds its own calls). */
  timeoutMs(store: CacheStore): number;
  /** Reports a store failure as the cache's `error` event (and its error count). */
  report(key: string, error: unknown): void;
  /** Runs a decision as a traced operation of the cache (`larder.operation`); called only while someone subscribes. */
  trace<T>(operation: string, key: string, run: () => Promise<T>): Promise<T>;
  /** The cache's L2 breaker for this store (`breaker` option), else `undefined`. */
  breaker(store: CacheStore): RateLimitBreaker | undefined;
}

/** The cache's L2 breaker as a limiter uses it: asked before each store call, told how the store answered. */
export interface RateLimitBreaker {
  /** Whether a call may go to the store now. */
  allow(): boolean;
  /** The error a refused call decides with. */
  refused(driver: string, operation: string): Error;
  succeeded(): void;
  failed(error: unknown): void;
}

/** Who made a decision: the store, or — while it was down — the `onStoreDown` mode. */
export type RateLimitSource = 'store' | StoreDownMode;

/** The answer of `hit`, `peek` and `refund`. */
export interface RateLimitDecision {
  /** The hit was admitted (`peek`: it would be). */
  readonly allowed: boolean;
  /** The limiter's limit. */
  readonly limit: number;
  /** Units that would still be admitted now. */
  readonly remaining: number;
  /** Milliseconds until `remaining` is back to `limit`. */
  readonly resetMs: number;
  /** Milliseconds until this hit could be admitted (0 when allowed): what `Retry-After` says. */
  readonly retryAfterMs: number;
  /** `'store'`; while the store is down, the `onStoreDown` mode that decided (`'closed'`, `'open'`, `'local'`). */
  readonly source: RateLimitSource;
}

/** Options of one hit. */
export interface HitOptions {
  /** Units this request weighs, from 1 to the limit. @default 1 */
  cost?: number;
}

/** What `attempt` resolves: `fn`'s value when the hit was admitted (and `fn` ran). */
export type RateLimitAttempt<T> =
  | { readonly allowed: true; readonly value: T; readonly decision: RateLimitDecision }
  | { readonly allowed: false; readonly decision: RateLimitDecision };

/** Payload of the `storeDown` event: a decision made without the store. */
export interface RateLimitStoreDownEvent {
  /** The key, as given to the limiter. */
  readonly key: string;
  /** The `onStoreDown` mode that decided. */
  readonly mode: StoreDownMode;
  /** The store's failure (a `BackendError`; `TimeoutError` when it did not answer in time). */
  readonly error: unknown;
}

// How long a decision made while the store is down ('closed') asks the client to wait.
const DOWN_RETRY_MS = 1000;

/**
 * A rate limiter on a cache's store (`cache.rateLimiter()`): every decision is one atomic store
 * call on the store's clock (see `CacheStore.rateLimit`), bounded by the cache's timeout; when the
 * store fails, `onStoreDown` decides and says so (`source`, the `storeDown` event, the cache's
 * `error` event). Bad input rejects with a typed error before anything is sent.
 */
export class RateLimiter {
  /** Units admitted per window. */
  readonly limit: number;
  /** The window in milliseconds. */
  readonly windowMs: number;
  readonly #host: RateLimitHost;
  readonly #options: ResolvedRateLimit;
  #local?: LocalLimiter;
  /** The store, once its first decision found it ready. */
  #store?: CacheStore;
  #timeoutMs = 0;
  /** The cache's breaker, when it has one: while the store is down, `onStoreDown` decides at once. */
  #breaker: RateLimitBreaker | undefined;
  /** The key's id within the store prefix (`<algorithm>:[<name>:]<namespace path>`), and the full key prefix. */
  readonly #idPrefix: string;
  readonly #keyPrefix: string;
  /** The request of a hit of cost 1, the common one: made once. */
  readonly #hitOfOne: RateLimitRequest;
  #listeners: readonly ((event: RateLimitStoreDownEvent) => void)[] = [];

  constructor(host: RateLimitHost, options: RateLimiterOptions) {
    this.#options = resolveRateLimit(options);
    this.#host = host;
    this.limit = this.#options.limit;
    this.windowMs = this.#options.windowMs;
    this.#idPrefix = this.#options.segment + host.path;
    this.#keyPrefix = host.keyPrefix + this.#idPrefix;
    const { algorithm, limit, windowMs } = this.#options;
    this.#hitOfOne = Object.freeze({ op: 'hit', algorithm, limit, windowMs, cost: 1 });
  }

  /** The algorithm (`fixed`, `sliding`, `token-bucket`). */
  get algorithm(): ResolvedRateLimit['algorithm'] {
    return this.#options.algorithm;
  }

  /** Counts a hit of `cost` (default 1) on `key` if it fits; resolves the decision. */
  hit(key: string, options?: HitOptions): Promise<RateLimitDecision> {
    return this.#traced('hit', key, options?.cost);
  }

  /** Whether a hit of `cost` would be admitted now, counting nothing. */
  peek(key: string, options?: HitOptions): Promise<RateLimitDecision> {
    return this.#traced('peek', key, options?.cost);
  }

  /** Gives back `cost` units of an earlier admitted hit (e.g. a request that should not count after all). */
  refund(key: string, options?: HitOptions): Promise<RateLimitDecision> {
    return this.#traced('refund', key, options?.cost);
  }

  /** Forgets the count of `key`; rejects when the store is down (there is nothing honest to fall back on). */
  async reset(key: string): Promise<void> {
    await this.#traced('reset', key, undefined);
  }

  /** Runs `fn` only if a hit of `cost` on `key` is admitted (counted before `fn` runs, so concurrent callers never overshoot). */
  async attempt<T>(key: string, fn: () => T | Promise<T>, options?: HitOptions): Promise<RateLimitAttempt<T>> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('attempt needs a function to run', 'fn');
    const decision = await this.hit(key, options);
    if (!decision.allowed) return { allowed: false, decision };
    return { allowed: true, value: await fn(), decision };
  }

  /** Listens to `storeDown`: a decision made without the store (listener errors are ignored). */
  on(event: 'storeDown', listener: (event: RateLimitStoreDownEvent) => void): this {
    if (event === 'storeDown') this.#listeners = [...this.#listeners, listener];
    return this;
  }

  /** Removes a listener added with `on`. */
  off(event: 'storeDown', listener: (event: RateLimitStoreDownEvent) => void): this {
    if (event === 'storeDown') this.#listeners = this.#listeners.filter((l) => l !== listener);
    return this;
  }

  /** `#decide`, traced as the cache's operation `rateLimit.<op>` while someone subscribes to `larder.operation`. */
  #traced(op: RateLimitOperation, key: string, cost: unknown): Promise<RateLimitDecision> {
    if (!operationChannel.hasSubscribers) return this.#decide(op, key, cost);
    return this.#host.trace(`rateLimit.${op}`, key, () => this.#decide(op, key, cost));
  }

  // A promise chain, not an async function: the hot path of a remote decision is one store call,
  // its timeout and one `.then`. The store is looked up once; its first decision waits for it.
  #decide(op: RateLimitOperation, key: string, cost: unknown): Promise<RateLimitDecision> {
    let request: RateLimitRequest;
    try {
      assertKey(key);
      const o = this.#options;
      request =
        op === 'hit' && cost === undefined
          ? this.#hitOfOne
          : { op, algorithm: o.algorithm, limit: o.limit, windowMs: o.windowMs, cost: checkCost(cost, o.limit) };
    } catch (error) {
      return Promise.reject(error);
    }
    const store = this.#store;
    if (store === undefined) return this.#firstDecision(key, request);
    const breaker = this.#breaker;
    if (breaker !== undefined && !breaker.allow()) {
      return this.#failed(key, request, breaker.refused(store.driver, 'rateLimit'));
    }
    let call: Promise<RateLimitReply>;
    try {
      const full = this.#keyPrefix + key;
      checkKeyBytes(full, key, store.capabilities.maxKeyBytes, store.driver);
      call = (store.rateLimit as NonNullable<CacheStore['rateLimit']>)(full, request);
    } catch (error) {
      return this.#failed(key, request, error);
    }
    const timeoutMs = this.#timeoutMs;
    return (timeoutMs > 0 ? withTimeout(call, timeoutMs, 'rateLimit', store.driver) : call).then(
      (reply) => {
        breaker?.succeeded();
        return {
          allowed: reply.allowed,
          limit: request.limit,
          remaining: reply.remaining,
          resetMs: reply.resetMs,
          retryAfterMs: reply.retryAfterMs,
          source: 'store' as const,
        };
      },
      (error: unknown) => {
        // As the cache's own calls: a client's error, a timeout or a backend error is the store failing.
        if (breaker !== undefined && (!isLarderError(error) || isLarderError(error, ['E_BACKEND', 'E_TIMEOUT'])))
          breaker.failed(error);
        return this.#failed(key, request, error);
      },
    );
  }

  /** The first decision: waits for the store, checks it can rate limit, keeps it for the next ones. */
  async #firstDecision(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    // A store that could not be made is a configuration problem, not an outage: it rejects (as every operation does).
    const store = await this.#host.store();
    if (typeof store.rateLimit !== 'function') {
      throw new UnsupportedOperationError('rate limits', store.driver, 'the driver has no rateLimit operation');
    }
    this.#timeoutMs = this.#host.timeoutMs(store);
    this.#breaker = this.#host.breaker(store);
    this.#store = store;
    return this.#decide(request.op, key, request === this.#hitOfOne ? undefined : request.cost);
  }

  // Wrong input or an algorithm the driver cannot run exactly is the caller's to fix, not an outage.
  #failed(key: string, request: RateLimitRequest, error: unknown): Promise<RateLimitDecision> {
    if (isLarderError(error) && isInputError(error)) return Promise.reject(error);
    try {
      return Promise.resolve(this.#down(key, request, error));
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  }

  #down(key: string, request: RateLimitRequest, error: unknown): RateLimitDecision {
    const id = this.#idPrefix + key;
    const mode = this.#options.onStoreDown;
    const limit = this.#options.limit;
    this.#host.report(key, error);
    if (request.op === 'reset') {
      this.#local?.decide(id, request);
      throw error;
    }
    for (const listener of this.#listeners) {
      try {
        listener({ key, mode, error });
      } catch {}
    }
    const counting = request.op === 'hit' || request.op === 'peek';
    if (mode === 'local') {
      this.#local ??= new LocalLimiter(Math.floor(limit / this.#options.instances));
      return { ...this.#local.decide(id, request), limit, source: 'local' };
    }
    if (mode === 'open' || !counting) {
      return { allowed: true, limit, remaining: limit, resetMs: 0, retryAfterMs: 0, source: mode };
    }
    const retryAfterMs = Math.min(DOWN_RETRY_MS, this.#options.windowMs);
    return { allowed: false, limit, remaining: 0, resetMs: retryAfterMs, retryAfterMs, source: 'closed' };
  }
}
