import type { TtlMs } from '../contract/store';
import { RecentMap } from '../util/recent-map';

// Counters made here live twice as long as the entry asking: extended again only when less than
// that entry's TTL is left, so a tagged write rarely rewrites its counters (Redis tracking would
// announce each rewrite to every L1).
const LIFE_FACTOR = 2;
const MAX_EXPIRIES = 10_000;

/** The life of a counter made or extended for an entry kept `ttlMs` (`undefined`: no expiry, like the entry). */
export function counterLife(ttlMs: TtlMs): TtlMs {
  return ttlMs === undefined ? undefined : ttlMs * LIFE_FACTOR;
}

/** When each counter this process made or extended expires (epoch ms; Infinity: never), the 10,000 set last at least (`RecentMap`). */
export class CounterExpiries {
  readonly #at = new RecentMap<string, number>(MAX_EXPIRIES);

  /** When counter `key` expires, if this process made or extended it lately. */
  get(key: string): number | undefined {
    return this.#at.get(key);
  }

  /** Counter `key` was made or extended just now for `life`. */
  extended(key: string, life: TtlMs): void {
    this.expiresAt(key, life === undefined ? Number.POSITIVE_INFINITY : Date.now() + life);
  }

  /** Counter `key` expires at `at` (epoch ms). */
  expiresAt(key: string, at: number): void {
    this.#at.set(key, at);
  }

  /** Whether counter `key` outlives `life` from `now` with no extension due (see `outlives`). */
  outlives(key: string, life: TtlMs, now: number): boolean {
    return outlives(this.#at.get(key) ?? Number.NEGATIVE_INFINITY, life, now);
  }
}

/** Whether a counter that expires `at` (epoch ms) outlives `life` from `now` with no extension due (half of it left at least). */
export function outlives(at: number, life: TtlMs, now: number): boolean {
  return life === undefined ? at === Number.POSITIVE_INFINITY : at - now >= life / 2;
}
