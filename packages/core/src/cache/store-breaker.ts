import { BackendError, isLarderError } from '../contract/errors';
import type { BreakerDescription } from '../contract/store-description';

// The L2 breaker: the one owner of "is the store down?" for a cache (core README "The L2 breaker").
// After consecutive failed or timed-out store calls it opens: calls fail at once, without waiting
// for the timeout, so `remember` serves its graced copies and an L1 keeps answering. After a short
// interval (growing while the store stays down, at most 1 s) one call goes through as the probe:
// its success closes the breaker, its failure opens it again.

/** A cache's view of its store: up or down, since when, and the last failure. */
export interface StoreHealth {
  readonly state: 'up' | 'down';
  /** When the state began, epoch ms. */
  readonly since: number;
  /** The last failure of a store call (a `LarderError`, or the client's error), when there was one. */
  readonly lastError?: unknown;
  /** With the `breaker` option: failed or timed-out store calls in a row (3 open it; refused calls do not count). */
  readonly consecutiveFailures?: number;
  /** With the `breaker` option: the wait from one probe to the next while down (100 ms, doubling to 1 s while probes fail). */
  readonly probeIntervalMs?: number;
}

/** Consecutive failures that open the breaker. */
const FAILURES_TO_OPEN = 3;
const FIRST_PROBE_MS = 100;
const MAX_PROBE_MS = 1000;

/** The breaker of one store (built by `bindStore` for every store but an in-process one). */
export class StoreBreaker {
  #failures = 0;
  #state: 'closed' | 'open' | 'probing' = 'closed';
  #probeAt = 0;
  #intervalMs = FIRST_PROBE_MS;
  #since = Date.now();
  #lastError: unknown;
  readonly #changed: (health: StoreHealth) => void;

  /** `changed` hears every change of state (the cache's `up` and `down` events). */
  constructor(changed: (health: StoreHealth) => void) {
    this.#changed = changed;
  }

  /** Whether a call may go to the store now: closed, or the one probe once the interval ended. */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open' && Date.now() >= this.#probeAt) {
      this.#state = 'probing';
      return true;
    }
    return false;
  }

  /** The error a refused call rejects with. */
  refused(driver: string, operation: string): BackendError {
    const since = new Date(this.#since).toISOString();
    return new BackendError(`${driver} ${operation} failed: the store is down (breaker open since ${since})`, driver, {
      cause: this.#lastError,
    });
  }

  /** A store call answered: the store is up. */
  succeeded(): void {
    this.#failures = 0;
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#intervalMs = FIRST_PROBE_MS;
    this.#since = Date.now();
    this.#changed(this.health());
  }

  /** A store call failed or timed out. */
  failed(error: unknown): void {
    this.#lastError = error;
    this.#failures++;
    if (this.#state === 'probing') {
      this.#intervalMs = Math.min(this.#intervalMs * 2, MAX_PROBE_MS);
      this.#state = 'open';
      this.#probeAt = Date.now() + this.#intervalMs;
      return;
    }
    if (this.#state !== 'closed' || this.#failures < FAILURES_TO_OPEN) return;
    this.#state = 'open';
    this.#since = Date.now();
    this.#probeAt = this.#since + this.#intervalMs;
    this.#changed(this.health());
  }

  /** Up or down, since when, the last failure. */
  health(): StoreHealth {
    const state = this.#state === 'closed' ? 'up' : 'down';
    const counts = { consecutiveFailures: this.#failures, probeIntervalMs: this.#intervalMs };
    return this.#lastError === undefined
      ? { state, since: this.#since, ...counts }
      : { state, since: this.#since, lastError: this.#lastError, ...counts };
  }

  /** `health()` as JSON-able data for `describe()`: the last error as its code and message. */
  describe(): BreakerDescription {
    const { lastError, ...health } = this.health() as Required<StoreHealth>;
    if (lastError === undefined) return health;
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    return { ...health, lastError: isLarderError(lastError) ? { code: lastError.code, message } : { message } };
  }
}
