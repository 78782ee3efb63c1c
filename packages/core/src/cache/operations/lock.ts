import { randomUUID } from 'node:crypto';
import { LockTimeoutError } from '../../contract/errors';
import { sleep } from '../../util/timeout';
import { parseTtl, type Ttl } from '../../values/ttl';

/**
 * The two backend steps a lock needs, already bounded by the cache's timeout and with errors
 * wrapped. The engine builds one per cache (`storeLockBackend` in lock-backend.ts).
 */
export interface LockBackend {
  /** Atomically stores `owner` under `key` for `ttlMs` if the key is absent; true if stored. */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` only if it still holds `owner`; true if deleted. */
  release(key: string, owner: string): Promise<boolean>;
}

const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 250;

/**
 * A cross-process lock stored in the cache under `key`, holding a random owner token for
 * `ttl` (so a crashed holder frees it when the TTL ends). Only the owner can release it.
 */
export class Lock {
  /** Full store key of the lock (prefix included). */
  readonly key: string;
  /** Owner token; pass it to `cache.lock(name, ttl, owner)` to release from another place. */
  readonly owner: string;
  /** Lock lifetime in ms. */
  readonly ttlMs: number;
  readonly #backend: LockBackend;

  /** Use `cache.lock(name, ttl, owner?)`; this constructor is for stores' own lock helpers. */
  constructor(backend: LockBackend, key: string, ttl: Ttl, owner?: string) {
    this.#backend = backend;
    this.key = key;
    this.ttlMs = parseTtl(ttl);
    this.owner = owner ?? randomUUID();
  }

  /** Tries once; resolves true if this owner now holds the lock. */
  acquire(): Promise<boolean> {
    return this.#backend.acquire(this.key, this.owner, this.ttlMs);
  }

  /** Retries `acquire` with exponential back-off (10 ms to 250 ms, jittered) until it succeeds; rejects with `LockTimeoutError` after `wait`. */
  async block(wait: Ttl): Promise<void> {
    const deadline = Date.now() + parseTtl(wait);
    let backoff = FIRST_BACKOFF_MS;
    for (;;) {
      if (await this.acquire()) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new LockTimeoutError(this.key);
      await sleep(Math.min(left, backoff * (0.5 + Math.random() / 2)));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** Releases the lock if this owner still holds it; resolves true if it was released. */
  release(): Promise<boolean> {
    return this.#backend.release(this.key, this.owner);
  }
}
