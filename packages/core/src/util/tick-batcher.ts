/** How a `TickBatcher` reads its keys. */
export interface TickBatcherOptions<V> {
  /**
   * Reads distinct keys and returns their values aligned with them. A value may be a promise: its
   * key then settles with it (a per-key failure or retry).
   */
  readMany(keys: string[]): Promise<readonly (V | PromiseLike<V>)[]>;
  /** Reads one key; used for a batch of one key (and for `sendAloneWhenIdle`). @default readMany([key]) */
  readOne?(key: string): Promise<V>;
  /**
   * Sends each key once per batch (its callers share the value). Turn off only for a backend that
   * takes repeated keys (Redis MGET): the check costs ~3% of a 64-key batch's throughput. @default true
   */
  dedupe?: boolean;
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
 * deduplicated (unless `dedupe: false`); every caller of a key gets its value (or its error). The batch is flushed on
 * `process.nextTick`, which runs after the promise continuations of the current tick, so callers
 * that reach `load` through a few `await`s still share it.
 */
export class TickBatcher<V> {
  readonly #readMany: TickBatcherOptions<V>['readMany'];
  readonly #readOne: (key: string) => Promise<V>;
  readonly #maxBatchSize: number;
  readonly #sendAloneWhenIdle: boolean;
  readonly #dedupe: boolean;
  /** The queued batch: one key and one waiter per caller (a key may repeat; see `#flush`). */
  #keys: string[] = [];
  #waiters: Waiter<V>[] = [];
  #scheduled = false;
  #inFlight = 0;

  constructor(options: TickBatcherOptions<V>) {
    const { readMany, readOne, maxBatchSize = Number.POSITIVE_INFINITY, sendAloneWhenIdle = false } = options;
    this.#dedupe = options.dedupe ?? true;
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
      this.#keys.push(key);
      this.#waiters.push({ resolve, reject });
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
    const waiters = this.#waiters;
    let keys = this.#keys;
    this.#keys = [];
    this.#waiters = [];
    // Duplicates are rare: one Set (built natively) tells, and only then are keys compacted.
    let positions: number[] | undefined;
    if (this.#dedupe && keys.length > 1 && new Set(keys).size < keys.length) ({ keys, positions } = distinct(keys));
    if (keys.length === 1) {
      this.#inFlight++;
      const read = this.#call(this.#readOne, keys[0]!).then(this.#settledValue, this.#settledError);
      if (waiters.length === 1) read.then(waiters[0]!.resolve, waiters[0]!.reject);
      else
        read.then(
          (value) => settle(waiters, positions, 0, 1, [value]),
          (error) => fail(waiters, positions, 0, 1, error),
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
          settle(waiters, positions, start, end, values);
        },
        (error: unknown) => {
          this.#inFlight--;
          fail(waiters, positions, start, end, error);
        },
      );
    }
  };
}

/** The distinct keys, and for each caller the position of its key among them. */
function distinct(keys: string[]): { keys: string[]; positions: number[] } {
  const index = new Map<string, number>();
  const positions = new Array<number>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    let position = index.get(keys[i]!);
    if (position === undefined) {
      position = index.size;
      index.set(keys[i]!, position);
    }
    positions[i] = position;
  }
  return { keys: [...index.keys()], positions };
}

/**
 * Resolves the callers of distinct keys `start..end` with `values` (aligned with that range).
 * Without `positions`, caller i asked for key i.
 */
function settle<V>(
  waiters: Waiter<V>[],
  positions: number[] | undefined,
  start: number,
  end: number,
  values: readonly (V | PromiseLike<V>)[],
): void {
  if (positions === undefined) {
    for (let i = start; i < end; i++) waiters[i]!.resolve(values[i - start] as V | PromiseLike<V>);
    return;
  }
  for (let i = 0; i < waiters.length; i++) {
    const position = positions[i]!;
    if (position >= start && position < end) waiters[i]!.resolve(values[position - start] as V | PromiseLike<V>);
  }
}

/** Rejects the callers of distinct keys `start..end`. */
function fail<V>(
  waiters: Waiter<V>[],
  positions: number[] | undefined,
  start: number,
  end: number,
  error: unknown,
): void {
  for (let i = 0; i < waiters.length; i++) {
    const position = positions === undefined ? i : positions[i]!;
    if (position >= start && position < end) waiters[i]!.reject(error);
  }
}
