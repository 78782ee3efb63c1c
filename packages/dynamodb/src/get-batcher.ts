interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

/**
 * Coalesces the `get`s issued in the same turn of the event loop into one fetch (one
 * BatchGetItem per 100 distinct keys), like DataLoader. A web request handler that awaits
 * 64 cache reads with `Promise.all` then costs one round trip, not 64. The flush runs on
 * `setImmediate`, so gets that arrive after several promise hops of the facade still join.
 */
export class GetBatcher<V> {
  private pending = new Map<string, Waiter<V>[]>();
  private scheduled = false;

  /** `fetch` receives distinct keys and returns what it found (a missing key = absent). */
  constructor(private readonly fetch: (keys: string[]) => Promise<Map<string, V>>) {}

  /** Resolves with the fetched value for `key`, or undefined when absent. */
  load(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    this.fetch([...batch.keys()]).then(
      (found) => {
        for (const [key, waiters] of batch) {
          const value = found.get(key);
          for (const waiter of waiters) waiter.resolve(value);
        }
      },
      (error: unknown) => {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
