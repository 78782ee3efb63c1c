/** Largest number of keys sent in one MGET by the batcher. */
export const MAX_BATCH_KEYS = 512;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * Coalesces `get` calls into multi-key reads. While no read of this batcher is in flight, a
 * `get` is sent at once as a plain GET (no added latency when the app is quiet); while one is,
 * the `get`s of the tick are queued and sent together as one MGET when the tick ends. Flushing on
 * `process.nextTick` runs after every promise continuation of the current tick, so callers that
 * reach `get` through a few `await`s still share the batch.
 */
export class GetBatcher<T> {
  private keys: string[] = [];
  private waiters: Waiter<T>[] = [];
  private scheduled = false;
  private inFlight = 0;

  /** `readOne` reads one key (a GET); `readMany` reads keys (maybe repeated) and returns values aligned with them. */
  constructor(
    private readonly readOne: (key: string) => Promise<T>,
    private readonly readMany: (keys: string[]) => Promise<T[]>,
  ) {}

  /** Reads `key`, alone when the connection is idle, else in this tick's batch. */
  get(key: string): Promise<T> {
    if (this.inFlight === 0 && !this.scheduled) {
      this.inFlight++;
      return this.readOne(key).then(this.settledValue, this.settledError);
    }
    return new Promise((resolve, reject) => {
      this.keys.push(key);
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flush);
      }
    });
  }

  // Plain then-callbacks: `finally` costs a few extra promises per call on the hot path.
  private readonly settledValue = (value: T): T => {
    this.inFlight--;
    return value;
  };

  private readonly settledError = (error: unknown): never => {
    this.inFlight--;
    throw error;
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    const keys = this.keys;
    const waiters = this.waiters;
    this.keys = [];
    this.waiters = [];
    if (keys.length === 1) {
      const waiter = waiters[0]!;
      this.inFlight++;
      this.readOne(keys[0]!).then(this.settledValue, this.settledError).then(waiter.resolve, waiter.reject);
      return;
    }
    for (let start = 0; start < keys.length; start += MAX_BATCH_KEYS) {
      const end = Math.min(start + MAX_BATCH_KEYS, keys.length);
      const chunk = start === 0 && end === keys.length ? keys : keys.slice(start, end);
      this.inFlight++;
      this.readMany(chunk).then(
        (values) => {
          this.inFlight--;
          for (let i = 0; i < chunk.length; i++) waiters[start + i]!.resolve(values[i] as T);
        },
        (error: unknown) => {
          this.inFlight--;
          for (let i = start; i < end; i++) waiters[i]!.reject(error);
        },
      );
    }
  };
}
