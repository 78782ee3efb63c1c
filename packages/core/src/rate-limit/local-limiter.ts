import type { RateLimitReply, RateLimitRequest } from '../contract/rate-limit';
import { decideInProcess, type InProcessState } from './in-process';

/** Keys the local fallback keeps at most (the oldest written is dropped first). */
const MAX_KEYS = 10_000;

/**
 * The in-process limiter of `onStoreDown: 'local'`: the same algorithms as the memory driver,
 * on this process's monotonic clock, at `floor(limit / instances)` so that the instances
 * together stay within the limit while the store is down. Bounded to `MAX_KEYS` keys.
 */
export class LocalLimiter {
  readonly #states = new Map<string, { state: InProcessState; expiresAt: number }>();

  constructor(
    /** Units per window this process admits on its own. */
    readonly limit: number,
  ) {}

  /** Decides `request` (its limit replaced by this one's) for `key`. */
  decide(key: string, request: RateLimitRequest): RateLimitReply {
    if (this.limit === 0 || request.cost > this.limit) {
      // Nothing fits: no instance may admit anything on its own.
      return {
        allowed: request.op !== 'hit' && request.op !== 'peek',
        remaining: 0,
        resetMs: 0,
        retryAfterMs: request.windowMs,
      };
    }
    const now = performance.now();
    const kept = this.#states.get(key);
    const live = kept !== undefined && kept.expiresAt > now ? kept.state : undefined;
    const result = decideInProcess(live, { ...request, limit: this.limit }, now);
    this.#states.delete(key);
    if (result.state !== undefined) {
      if (this.#states.size >= MAX_KEYS) this.#states.delete(this.#states.keys().next().value as string);
      this.#states.set(key, { state: result.state, expiresAt: result.expiresAt });
    }
    return result.reply;
  }
}
