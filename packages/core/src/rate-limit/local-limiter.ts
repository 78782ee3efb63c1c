import type { RateLimitReply, RateLimitRequest } from '../contract/rate-limit';
import { RecentMap } from '../util/recent-map';
import { decideInProcess, type InProcessState } from './in-process';

/** Keys the local fallback keeps at least, the ones written last (at most twice as many: `RecentMap`). */
const MAX_KEYS = 10_000;

/**
 * The in-process limiter of `onStoreDown: 'local'`: the same algorithms as the memory driver,
 * on this process's monotonic clock, at `floor(limit / instances)` so that the instances
 * together stay within the limit while the store is down. Bounded by `MAX_KEYS`.
 */
export class LocalLimiter {
  readonly #states = new RecentMap<string, { state: InProcessState; expiresAt: number }>(MAX_KEYS);

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
    if (result.state === undefined) this.#states.delete(key);
    else this.#states.set(key, { state: result.state, expiresAt: result.expiresAt });
    return result.reply;
  }
}
