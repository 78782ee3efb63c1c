interface Waiter {
  /** `performance.now()` at which the budget is spent. */
  at: number;
  settled: boolean;
  /** Settles the race with its `late` value. */
  late: () => void;
}

/**
 * Time budgets of a middleware's lookups, all of one length, kept by one timer: a lookup's
 * deadline is never earlier than those of the lookups started before it, so the waiters end in
 * the order they start and the timer only ever looks at the front (no timer armed and cleared per
 * request).
 */
export class LookupBudget {
  #waiters: Waiter[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** Settles with the work's value, or with `late` once the budget has passed (the work is then abandoned). */
  race<T>(work: Promise<T>, late: T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { at: performance.now() + this.ms, settled: false, late: () => resolve(late) };
      this.#waiters.push(waiter);
      if (this.#timer === undefined) this.#arm(this.ms);
      work.then(
        (value) => {
          waiter.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          waiter.settled = true;
          reject(error);
        },
      );
    });
  }

  #arm(ms: number): void {
    // Timers run before I/O in an event-loop turn: one more turn lets a reply that already
    // arrived settle its lookup before the budget is declared spent.
    this.#timer = setTimeout(() => setImmediate(() => this.#sweep()), Math.max(1, Math.ceil(ms)));
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    const waiters = this.#waiters;
    let head = this.#head;
    while (head < waiters.length) {
      const waiter = waiters[head] as Waiter;
      if (!waiter.settled) {
        if (waiter.at > now) break;
        waiter.settled = true;
        waiter.late();
      }
      head++;
    }
    if (head === waiters.length) {
      this.#waiters = [];
      this.#head = 0;
      return;
    }
    // Drops the ended front now and then (not at every sweep: a copy per sweep would cost more).
    if (head > 1024) {
      this.#waiters = waiters.slice(head);
      head = 0;
    }
    this.#head = head;
    this.#arm((this.#waiters[head] as Waiter).at - now);
  }
}
