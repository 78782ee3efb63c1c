/** How a `TickBatcher` reads its keys. */
export interface TickBatcherOptions<V> {
  /**
   * Reads distinct keys and returns their values aligned with them. A value may be a promise: its
   * key then settles with it (a per-key failure or retry).
   */
  readMany(keys: string[]): Promise<readonly (V | PromiseLike<V>)[]>;
  /** Reads one key; used for a batch of one key (and for `sendAloneWhenIdle`). @default readMany([key]) */
  readOne?(key: string): Promise<V>;
  /** Most keys per `readMany`; a larger batch is split into parallel reads. @default unlimited */
  maxBatchSize?: number;
  /**
   * Sends a key at once with `readOne` while no read of this batcher is in flight or queued: no
   * added latency when the app is quiet (for pipelined backends, where a lone read costs nothing
   * extra). Off, the first key also waits for the end of the tick. @default false
   */
  sendAloneWhenIdle?: boolean;
}

interface Waiter<V> {
  resolve(value: V | PromiseLike<V>): void;
  reject(error: unknown): void;
}

/**
 * Coalesces the reads requested in one tick into batched reads, like DataLoader: a request
 * handler that awaits 64 cache reads with `Promise.all` costs one round trip, not 64. Keys are
 * deduplicated; every caller of a key gets its value (or its error). The batch is flushed on
 * `process.nextTick`, which runs after the promise continuations of the current tick, so callers
 * that reach `load` through a few `await`s still share it.
 */
export class TickBatcher<V> {
  readonly #readMany: TickBatcherOptions<V>['readMany'];
  readonly #readOne: (key: string) => Promise<V>;
  readonly #maxBatchSize: number;
  readonly #sendAloneWhenIdle: boolean;
  /** Distinct keys of the queued batch, and the first caller of each (aligned). */
  #keys: string[] = [];
  #waiters: Waiter<V>[] = [];
  /** Position of each queued key in `#keys`. */
  #positions = new Map<string, number>();
  /** Further callers of queued keys: position, then waiter. */
  #more: (number | Waiter<V>)[] | undefined;
  #scheduled = false;
  #inFlight = 0;

  constructor(options: TickBatcherOptions<V>) {
    const { readMany, readOne, maxBatchSize = Number.POSITIVE_INFINITY, sendAloneWhenIdle = false } = options;
    if (!(maxBatchSize >= 1)) throw new RangeError(`TickBatcher: maxBatchSize must be at least 1, got ${maxBatchSize}`);
    this.#readMany = readMany;
    this.#readOne = readOne ?? ((key) => readMany([key]).then((values) => values[0] as V | PromiseLike<V>));
    this.#maxBatchSize = maxBatchSize;
    this.#sendAloneWhenIdle = sendAloneWhenIdle;
  }

  /** Resolves with the value read for `key` (in this tick's batch, or alone when idle and `sendAloneWhenIdle`). */
  load(key: string): Promise<V> {
    if (this.#sendAloneWhenIdle && this.#inFlight === 0 && !this.#scheduled) {
      this.#inFlight++;
      return this.#call(this.#readOne, key).then(this.#settledValue, this.#settledError);
    }
    return new Promise((resolve, reject) => {
      const position = this.#positions.get(key);
      if (position === undefined) {
        this.#positions.set(key, this.#keys.length);
        this.#keys.push(key);
        this.#waiters.push({ resolve, reject });
      } else {
        if (this.#more === undefined) this.#more = [];
        this.#more.push(position, { resolve, reject });
      }
      if (!this.#scheduled) {
        this.#scheduled = true;
        process.nextTick(this.#flush);
      }
    });
  }

  /** Reads in flight (batches and lone reads). */
  get inFlight(): number {
    return this.#inFlight;
  }

  // Plain then-callbacks: `finally` costs a few extra promises per call on the hot path.
  readonly #settledValue = (value: V): V => {
    this.#inFlight--;
    return value;
  };

  readonly #settledError = (error: unknown): never => {
    this.#inFlight--;
    throw error;
  };

  /** Runs a read; a synchronous throw becomes a rejection (it would otherwise escape the tick). */
  #call<A, R>(read: (arg: A) => Promise<R>, arg: A): Promise<R> {
    try {
      return read(arg);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const keys = this.#keys;
    const waiters = this.#waiters;
    const more = this.#more;
    this.#keys = [];
    this.#waiters = [];
    this.#positions = new Map();
    this.#more = undefined;
    if (keys.length === 1) {
      this.#inFlight++;
      const read = this.#call(this.#readOne, keys[0]!).then(this.#settledValue, this.#settledError);
      if (more === undefined) read.then(waiters[0]!.resolve, waiters[0]!.reject);
      else
        read.then(
          (value) => settle(waiters, more, 0, 1, [value]),
          (error) => fail(waiters, more, 0, 1, error),
        );
      return;
    }
    const size = this.#maxBatchSize;
    for (let start = 0; start < keys.length; start += size) {
      const end = Math.min(start + size, keys.length);
      const chunk = start === 0 && end === keys.length ? keys : keys.slice(start, end);
      this.#inFlight++;
      this.#call(this.#readMany, chunk).then(
        (values) => {
          this.#inFlight--;
          settle(waiters, more, start, end, values);
        },
        (error: unknown) => {
          this.#inFlight--;
          fail(waiters, more, start, end, error);
        },
      );
    }
  };
}

/** Resolves the callers of keys `start..end` with `values` (aligned with that range). */
function settle<V>(
  waiters: Waiter<V>[],
  more: (number | Waiter<V>)[] | undefined,
  start: number,
  end: number,
  values: readonly (V | PromiseLike<V>)[],
): void {
  for (let i = start; i < end; i++) waiters[i]!.resolve(values[i - start] as V | PromiseLike<V>);
  if (more === undefined) return;
  for (let j = 0; j < more.length; j += 2) {
    const position = more[j] as number;
    if (position >= start && position < end) (more[j + 1] as Waiter<V>).resolve(values[position - start] as V);
  }
}

/** Rejects the callers of keys `start..end`. */
function fail<V>(
  waiters: Waiter<V>[],
  more: (number | Waiter<V>)[] | undefined,
  start: number,
  end: number,
  error: unknown,
): void {
  for (let i = start; i < end; i++) waiters[i]!.reject(error);
  if (more === undefined) return;
  for (let j = 0; j < more.length; j += 2) {
    const position = more[j] as number;
    if (position >= start && position < end) (more[j + 1] as Waiter<V>).reject(error);
  }
}
