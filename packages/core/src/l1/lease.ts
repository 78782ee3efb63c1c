import { performance } from 'node:perf_hooks';
import { type FleetStore, randomId } from './fleet-store';

/** How long a lease key stays in the store without renewal: only the garbage collection of crashed instances (a writer never trusts the store's clock). */
export const leaseStoreTtlMs = (leaseMs: number): number => Math.max(30_000, 10 * leaseMs);

/**
 * This instance's lease on its L1 (docs/architecture.md "The barrier"): the L1 serves only while
 * the lease holds — its last successful renewal *started* less than `leaseMs` ago on this
 * process's monotonic clock, in the current epoch. The lease key's value is `<epoch>.<seq>`; a
 * renewal replaces the previous value with compare-and-set. A new epoch begins at every flush
 * (channel down, a lapse, a vanished lease key), so a writer that sees a new epoch knows this L1
 * was emptied after it looked. No wall clock is read: a process whose clock is off changes
 * nothing, and a process stopped (SIGSTOP) past its lease finds it lapsed on its next read.
 */
export class L1Lease {
  readonly id = randomId();
  #epoch = randomId();
  #seq = 0;
  /** The value this instance last stored at its lease key (`undefined`: not joined). */
  #written: string | undefined;
  #validUntil = Number.NEGATIVE_INFINITY;
  #holding = false;
  #running = false;
  #renewing = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly fleet: FleetStore,
    readonly leaseMs: number,
    /** The lease lapsed: the L1 flushes (and is bypassed until the lease holds again). */
    readonly onLapse: () => void,
  ) {}

  /** Whether the lease holds now, without acting on a lapse (for `describe()`; reads use `holds`). */
  get held(): boolean {
    return this.#holding && performance.now() < this.#validUntil;
  }

  /** True while the L1 may serve; notices a lapse (the L1 is flushed once). */
  holds(): boolean {
    if (!this.#holding) return false;
    const now = performance.now();
    if (now >= this.#validUntil) {
      this.#lapse();
      // Renew at once (a new epoch) rather than at the next tick: the L1 is bypassed until then.
      if (this.#running) void this.#renew();
      return false;
    }
    // A renewal is overdue: its timer has not run, as in a loop of L1 hits that only awaits settled
    // promises and never yields to timers. Renew now and answer from the store meanwhile (nothing is
    // flushed): those reads wait on I/O, so the renewal's reply is read before the lease runs out.
    if (now >= this.#validUntil - this.leaseMs / 2) {
      if (this.#running) void this.#renew();
      return false;
    }
    return true;
  }

  /** The channel is up: renew now (a new epoch: the L1 starts empty), then every `leaseMs / 3`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#timer = setInterval(() => void this.#renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.#timer.unref?.();
    void this.#renew();
  }

  /** The channel is down (the L1 flushed): no more renewals, the lease lapses, a new epoch begins. */
  stop(): void {
    this.#running = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#holding = false;
    this.#epoch = randomId();
  }

  /** Acknowledges a fence heard on the channel (every invalidation sent before it was processed), to its writer alone. */
  ack(fid: string): void {
    // A failed acknowledgement leaves the writer waiting for this lease: flushing keeps this L1 right meanwhile.
    this.fleet.acknowledge(fid, this.id, ackTtlMs(this.leaseMs)).catch(() => this.#lapse());
  }

  /** Stops renewing and leaves the fleet (registry entry and lease key removed). */
  async close(): Promise<void> {
    this.stop();
    if (this.#written === undefined) return;
    this.#written = undefined;
    const id = this.id;
    // Best effort, bounded by one lease: a store that is down must not hold `close()` (writers then wait for the lease once).
    const leave = Promise.allSettled([this.fleet.leave([id]), this.fleet.delete(this.fleet.leaseKey(id))]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([leave, new Promise((resolve) => (timer = setTimeout(resolve, this.leaseMs)))]);
    clearTimeout(timer);
  }

  #lapse(): void {
    const was = this.#holding;
    this.#holding = false;
    this.#epoch = randomId();
    if (was) this.onLapse();
  }

  async #renew(): Promise<void> {
    if (this.#renewing || !this.#running) return;
    this.#renewing = true;
    const epoch = this.#epoch;
    const value = `${epoch}.${++this.#seq}`;
    const key = this.fleet.leaseKey(this.id);
    const started = performance.now();
    let stored = false;
    try {
      const previous = this.#written;
      if (previous === undefined) {
        await this.fleet.join(this.id);
        await this.fleet.set(key, value, leaseStoreTtlMs(this.leaseMs));
        stored = true;
      } else {
        stored = await this.fleet.swap(key, previous, value, leaseStoreTtlMs(this.leaseMs));
        // Gone or changed (evicted, flushed, pruned): flush and join again in a new epoch.
        if (!stored) this.#written = undefined;
      }
      if (stored) this.#written = value;
    } catch {
      // Unknown whether it landed: the next renewal finds out (its compare-and-set fails when it did not).
    } finally {
      this.#renewing = false;
    }
    if (!stored) {
      if (this.#written === undefined) this.#lapse();
      return;
    }
    this.#renewed(epoch, started);
  }

  #renewed(epoch: string, started: number): void {
    if (!this.#running || epoch !== this.#epoch) return;
    const now = performance.now();
    // Held, but past its end while this renewal was in flight: nobody read meanwhile, yet the L1 must
    // not serve across the gap (a writer may have counted it out): flush, then renew in a new epoch.
    if (this.#holding && now >= this.#validUntil) {
      this.#lapse();
      void this.#renew();
      return;
    }
    this.#validUntil = started + this.leaseMs;
    if (now < this.#validUntil) this.#holding = true;
  }
}

/** How long an acknowledgement stays in the store (a writer reads it within its wait). */
export const ackTtlMs = (leaseMs: number): number => Math.max(10_000, 4 * leaseMs);
