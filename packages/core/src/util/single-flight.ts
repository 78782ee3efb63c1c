/**
 * In-process single-flight: concurrent `run`s with the same key share one execution of `fn`.
 * The entry is removed when the flight settles, so a later call starts a new one.
 */
export class SingleFlight {
  readonly #flights = new Map<string, Promise<unknown>>();

  /** Runs `fn`, or joins the flight already running under `key`. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.#flights.get(key);
    if (existing !== undefined) return existing as Promise<T>;
    // `then(fn)` starts fn on a later tick, so even a synchronous throw settles after the entry is set.
    const flight: Promise<T> = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      });
    this.#flights.set(key, flight);
    return flight;
  }

  /** True when a flight is running under `key`. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /** Number of running flights. */
  get size(): number {
    return this.#flights.size;
  }
}
