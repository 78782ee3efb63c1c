import { Cache } from '@larder/core';
import type { CacheStore, Payload, TtlMs } from '@larder/core/driver';
import { createMemoryStore } from '@larder/memory';

/** Calls made to the backend store, by operation, with the TTLs given. */
export interface Counts {
  [operation: string]: number;
}

/**
 * A CacheStore wrapper that counts the calls reaching the backend and can be switched "down"
 * (every call rejects like an unreachable server). It wraps a real store; nothing is mocked.
 */
export class CountingStore implements CacheStore {
  readonly counts: Counts = {};
  readonly ttls: TtlMs[] = [];
  down = false;

  constructor(readonly inner: CacheStore) {}

  get driver(): string {
    return this.inner.driver;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  reset(): void {
    for (const k of Object.keys(this.counts)) delete this.counts[k];
    this.ttls.length = 0;
  }

  count(op: string): number {
    return this.counts[op] ?? 0;
  }

  /** Backend writes: set + touch. */
  writes(): number {
    return this.fullWrites() + this.count('touch');
  }

  /** Writes of a whole session: set, or compare-and-set (how sessions save on drivers that have it). */
  fullWrites(): number {
    return this.count('set') + this.count('compareAndSet');
  }

  private async call<T>(op: string, run: () => Promise<T>): Promise<T> {
    this.counts[op] = (this.counts[op] ?? 0) + 1;
    if (this.down) {
      const { BackendError } = await import('@larder/core');
      throw new BackendError(`${this.driver} is down (test)`, this.driver, { cause: new Error('ECONNREFUSED') });
    }
    return run();
  }

  get(key: string) {
    return this.call('get', () => this.inner.get(key));
  }
  set(key: string, payload: Payload, ttlMs: TtlMs) {
    this.ttls.push(ttlMs);
    return this.call('set', () => this.inner.set(key, payload, ttlMs));
  }
  compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs) {
    this.ttls.push(ttlMs);
    return this.call('compareAndSet', () => this.inner.compareAndSet!(key, expected, payload, ttlMs));
  }
  delete(key: string) {
    return this.call('delete', () => this.inner.delete(key));
  }
  has(key: string) {
    return this.call('has', () => this.inner.get(key).then((v) => v !== undefined));
  }
  touch(key: string, ttlMs: TtlMs) {
    this.ttls.push(ttlMs);
    return this.call('touch', () => this.inner.touch!(key, ttlMs));
  }
  keys(prefix: string): AsyncIterable<string> {
    this.counts.keys = (this.counts.keys ?? 0) + 1;
    return this.inner.keys!(prefix);
  }
  clear(prefix: string) {
    return this.call('clear', () => this.inner.clear!(prefix));
  }
  close() {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/** A Cache over a counting wrapper of the real memory driver. */
export function countingMemoryCache(options: { onError?: 'throw' | 'miss' } = {}): {
  cache: Cache;
  store: CountingStore;
} {
  const store = new CountingStore(createMemoryStore());
  return { cache: new Cache({ store, prefix: 'test:', onError: options.onError ?? 'throw' }), store };
}

/** Promisifies a callback-style store method. */
export function call<T>(fn: (cb: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}
