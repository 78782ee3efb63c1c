import { BackendError, isLarderError } from '../contract/errors';
import type { BreakerDescription } from '../contract/store-description';

// The one owner of "is the store down?" for a cache (core README "The store's health"). Every store
// call's outcome is counted: after consecutive failed or timed-out calls the store is down
// (`down` event) and, while it stays down, a probe call goes out after a short interval (growing
// while it fails, at most 1 s) even when nothing else calls the store; the first call that
// answers brings it up (`up` event). With `failFast` (the `breaker` option) the breaker also
// opens: while down, calls fail at once instead of waiting for the timeout, and only the probe
// reaches the store.

/** A cache's view of its store: up or down, since when, and the last failure. */
export interface StoreHealth {
  readonly state: 'up' | 'down';
  /** When the state began, epoch ms. */
  readonly since: number;
  /** The last failure of a store call (a `LarderError`, or the client's error), when there was one. */
  readonly lastError?: unknown;
  /** Failed or timed-out store calls in a row (3 make the store down; calls refused by the breaker do not count). */
  readonly consecutiveFailures?: number;
  /** The wait from one probe to the next while down (100 ms, doubling to 1 s while probes fail). */
  readonly probeIntervalMs?: number;
  /** Calls fail at once while down (the `breaker` option); else each still waits for the store. */
  readonly failFast?: boolean;
}

/** Consecutive failures that make the store down. */
const FAILURES_TO_OPEN = 3;
const FIRST_PROBE_MS = 100;
const MAX_PROBE_MS = 1000;

/** The health of one store, and with `failFast` its breaker (built by `bindStore` for every store). */
export class StoreBreaker {
  #failures = 0;
  #state: 'closed' | 'open' | 'probing' = 'closed';
  #probeAt = 0;
  #intervalMs = FIRST_PROBE_MS;
  #since = Date.now();
  #lastError: unknown;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Set while the timer sends its probe: with a probe set, only that call passes an open breaker. */
  #probeTurn = false;
  readonly #failFast: boolean;
  readonly #changed: (health: StoreHealth) => void;
  /** What `health()` returned last. */
  #health: StoreHealth = Object.freeze({ state: 'down', since: 0 });
  /** Sends the probe call (through `limit`, so its answer is counted like any call's). */
  #probe: (() => Promise<unknown>) | undefined;
  /** Passed to `then` of every call as they are: no closure is allocated per call. */
  readonly answered = <T>(value: T): T => {
    this.succeeded();
    return value;
  };
  readonly threw = (error: unknown): never => {
    // A client's error, a timeout or a backend error is the store failing; an input error is not.
    if (!isLarderError(error) || isLarderError(error, ['E_BACKEND', 'E_TIMEOUT'])) this.failed(error);
    throw error;
  };

  /** `changed` hears every change of state (the cache's `up` and `down` events); `failFast`: refuse calls while down. */
  constructor(changed: (health: StoreHealth) => void, failFast: boolean) {
    this.#changed = changed;
    this.#failFast = failFast;
  }

  /** Sets the call a probe sends while the store is down (none: only callers' calls probe). */
  probeWith(probe: () => Promise<unknown>): void {
    this.#probe = probe;
  }

  /** Whether a call may go to the store now: always without `failFast`; else closed, or the one probe once the interval ended. */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open' && this.#probeDue()) {
      this.#state = 'probing';
      return true;
    }
    return !this.#failFast;
  }

  /**
   * The probe's turn. With a probe set, only the timer's call probes: a caller's call that comes
   * after the interval but before a late timer (a busy event loop) would otherwise become the probe
   * and wait out the store's timeout, where the breaker promises every caller an answer at once.
   */
  #probeDue(): boolean {
    return this.#probe === undefined ? Date.now() >= this.#probeAt : this.#probeTurn;
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
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
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
      this.#schedule();
      return;
    }
    if (this.#state !== 'closed' || this.#failures < FAILURES_TO_OPEN) return;
    this.#state = 'open';
    this.#since = Date.now();
    this.#probeAt = this.#since + this.#intervalMs;
    this.#schedule();
    this.#changed(this.health());
  }

  /** Stops probing (the cache closed). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Up or down, since when, the last failure. */
  health(): StoreHealth {
    const state = this.#state === 'closed' ? 'up' : 'down';
    const last = this.#health;
    // The same object until something changes: a response cache asks on every request.
    if (
      last.state === state &&
      last.since === this.#since &&
      last.consecutiveFailures === this.#failures &&
      last.probeIntervalMs === this.#intervalMs &&
      last.lastError === this.#lastError
    ) {
      return last;
    }
    const counts = { consecutiveFailures: this.#failures, probeIntervalMs: this.#intervalMs, failFast: this.#failFast };
    this.#health = Object.freeze(
      this.#lastError === undefined
        ? { state, since: this.#since, ...counts }
        : { state, since: this.#since, lastError: this.#lastError, ...counts },
    );
    return this.#health;
  }

  /** `health()` as JSON-able data for `describe()`: the last error as its code and message. */
  describe(): BreakerDescription {
    const { lastError, failFast: _, ...health } = this.health() as Required<StoreHealth>;
    if (lastError === undefined) return health;
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    return { ...health, lastError: isLarderError(lastError) ? { code: lastError.code, message } : { message } };
  }

  /**
   * While down, a probe goes out when the interval ends even if nothing calls the store (a
   * session store that express-session stopped calling must still hear the store come back).
   * Callers' calls never probe while a probe is set (`#probeDue`).
   */
  #schedule(): void {
    if (this.#timer !== undefined || this.#probe === undefined || this.#stopped) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        if (this.#state !== 'open') return; // up again, or a probe in flight (its answer schedules the next)
        if (Date.now() < this.#probeAt) return this.#schedule();
        // Past the interval: `limit` lets this call through as the probe (`allow`, synchronously).
        this.#probeTurn = true;
        try {
          this.#probe?.().catch(() => {});
        } finally {
          this.#probeTurn = false;
        }
      },
      Math.max(0, this.#probeAt - Date.now()),
    );
    // The probe never keeps the process alive.
    this.#timer.unref?.();
  }
}
