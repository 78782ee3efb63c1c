/** Largest number of keys sent in one MGET by the batcher. */
export const MAX_BATCH_KEYS = 512;

interface Waiter {
  resolve(value: Buffer | null): void;
  reject(error: unknown): void;
}

/**
 * Coalesces `get` calls issued in the same tick into one multi-key read. Flushing on
 * `process.nextTick` runs after every promise continuation of the current tick, so callers that
 * reach `get` through a few `await`s still share the batch, and a lone `get` waits for nothing.
 */
export class GetBatcher {
  private keys: string[] = [];
  private waiters: Waiter[] = [];
  private scheduled = false;

  /** `readOne` reads a lone key (a plain GET); `readMany` gets keys (maybe repeated) and returns values aligned with them. */
  constructor(
    private readonly readOne: (key: string) => Promise<Buffer | null>,
    private readonly readMany: (keys: string[]) => Promise<(Buffer | null)[]>,
  ) {}

  /** Reads `key` as part of this tick's batch. */
  get(key: string): Promise<Buffer | null> {
    return new Promise((resolve, reject) => {
      this.keys.push(key);
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const keys = this.keys;
    const waiters = this.waiters;
    this.keys = [];
    this.waiters = [];
    if (keys.length === 1) {
      const waiter = waiters[0]!;
      this.readOne(keys[0]!).then(waiter.resolve, waiter.reject);
      return;
    }
    for (let start = 0; start < keys.length; start += MAX_BATCH_KEYS) {
      const end = Math.min(start + MAX_BATCH_KEYS, keys.length);
      const chunk = start === 0 && end === keys.length ? keys : keys.slice(start, end);
      this.readMany(chunk).then(
        (values) => {
          for (let i = 0; i < chunk.length; i++) waiters[start + i]!.resolve(values[i] ?? null);
        },
        (error: unknown) => {
          for (let i = start; i < end; i++) waiters[i]!.reject(error);
        },
      );
    }
  };
}
