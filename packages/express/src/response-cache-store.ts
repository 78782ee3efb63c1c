import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Cache, isLarderError } from '@larder/core';
import { decodeEntry, encodeEntry, isVaryHead, type StoredResponse, type VaryHead } from './response-cache-entry';
import { variantKey } from './response-cache-key';

/** What a lookup found. */
export type Lookup =
  | {
      kind: 'found' | 'miss';
      /** The entry for this request (`found`). */
      entry?: StoredResponse;
      /** `vary-miss` when the URI varies and this variant is not stored. */
      fwd: 'uri-miss' | 'vary-miss';
      /** The resource generation seen (`undefined`: none, nothing of the resource is stored). */
      gen: string | undefined;
      /** The vary head seen, if the URI varies. */
      head: VaryHead | undefined;
    }
  | { kind: 'unavailable' };

/** After a backend error, lookups and fills are skipped this long (the handler answers at once). */
const RETRY_AFTER_MS = 1000;
const TIMED_OUT = Symbol('timed out');

/**
 * The middleware's storage protocol over a `Cache` (see the key layout in response-cache-key.ts).
 * Never throws into a request: a failed or slow backend is reported as `unavailable` (fail open).
 */
export class ResponseStore {
  #downUntil = 0;

  constructor(
    private readonly cache: Cache,
    private readonly ttlMs: number,
    private readonly budgetMs: number,
    watchErrors = true,
  ) {
    if (!watchErrors) return;
    // A cache with `onError: 'miss'` resolves failed reads as misses and reports them only as
    // events (a batched read's without a key): any backend failure of this cache counts.
    cache.on?.('error', (event) => {
      if (isLarderError(event.error, ['E_BACKEND', 'E_TIMEOUT'])) this.markDown();
    });
  }

  /** False for a short while after a backend error: the middleware then skips the cache entirely. */
  available(now = Date.now()): boolean {
    return now >= this.#downUntil;
  }

  /** Reads the entry for a request: base key and generation in one batched read, then the variant if the URI varies. */
  async lookup(base: string, generation: string, headers: IncomingHttpHeaders): Promise<Lookup> {
    const deadline = Date.now() + this.budgetMs;
    try {
      const pair = await this.#within(this.#getTwo(base, generation), this.budgetMs);
      if (pair === TIMED_OUT || !this.available()) return { kind: 'unavailable' };
      const [value, gen] = pair as [unknown, unknown];
      const current = typeof gen === 'string' ? gen : undefined;
      if (current === undefined) return { kind: 'miss', fwd: 'uri-miss', gen: undefined, head: undefined };
      if (isVaryHead(value)) {
        if (value.g !== current) return { kind: 'miss', fwd: 'uri-miss', gen: current, head: undefined };
        const left = Math.max(1, deadline - Date.now());
        const variant = await this.#within(this.cache.get(variantKey(base, value.v, headers)), left);
        if (variant === TIMED_OUT || !this.available()) return { kind: 'unavailable' };
        return this.#result(decodeEntry(variant), 'vary-miss', current, value);
      }
      return this.#result(decodeEntry(value), 'uri-miss', current, undefined);
    } catch {
      this.markDown();
      return { kind: 'unavailable' };
    }
  }

  /**
   * Stores a response. A resource without a generation gets one only if nobody created or
   * replaced it since the lookup (compare-and-set); an existing generation is confirmed after
   * the write, so a response whose resource was invalidated while its handler ran is never
   * served. Resolves false when it did not store.
   */
  async fill(params: {
    base: string;
    generation: string;
    seen: Lookup & { kind: 'found' | 'miss' };
    vary: string[];
    headers: IncomingHttpHeaders;
    entry: Omit<StoredResponse, 'gen'>;
  }): Promise<boolean> {
    if (!this.available()) return false;
    const { base, generation, seen, vary, headers } = params;
    try {
      let gen = seen.gen;
      if (gen === undefined) {
        const fresh = randomId();
        if (!(await this.#compareAndSet(generation, undefined, fresh))) return false;
        gen = fresh;
      }
      const lifetime = Math.max(1, Math.ceil(params.entry.expiresAt - Date.now()));
      const bytes = encodeEntry({ ...params.entry, gen });
      if (vary.length === 0) {
        await this.cache.set(base, bytes, lifetime);
      } else {
        const head = seen.head;
        if (!head || head.g !== gen || head.v.join(',') !== vary.join(',')) {
          await this.cache.set(base, { t: 'v', v: vary, g: gen } satisfies VaryHead, this.ttlMs);
        }
        await this.cache.set(variantKey(base, vary, headers), bytes, lifetime);
      }
      // Keeps the generation alive at least as long as this entry, and only if it is unchanged.
      if (seen.gen !== undefined) return await this.#compareAndSet(generation, gen, gen);
      return true;
    } catch {
      this.markDown();
      return false;
    }
  }

  /** Retires every stored response of a resource (all variants, all hosts). Resolves true if it had some. */
  async invalidate(generation: string): Promise<boolean> {
    const before = await this.cache.get(generation);
    await this.cache.set(generation, randomId(), this.ttlMs);
    return before !== undefined;
  }

  /** Records a backend failure: lookups and fills are skipped for a second. */
  markDown(): void {
    this.#downUntil = Date.now() + RETRY_AFTER_MS;
  }

  #result(
    entry: StoredResponse | undefined,
    fwd: 'uri-miss' | 'vary-miss',
    gen: string,
    head: VaryHead | undefined,
  ): Lookup {
    // An entry from an older generation was retired by `invalidate`.
    if (entry === undefined || entry.gen !== gen) return { kind: 'miss', fwd, gen, head };
    return { kind: 'found', entry, fwd, gen, head };
  }

  #getTwo(a: string, b: string): Promise<unknown[]> {
    if (this.cache.getMany) return this.cache.getMany([a, b]);
    return Promise.all([this.cache.get(a), this.cache.get(b)]);
  }

  /** Settles with the call's value, or `TIMED_OUT` once `ms` have passed (the call is then abandoned). */
  #within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
    return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
      // Timers run before I/O in an event-loop turn: one more turn lets a reply that already
      // arrived settle the lookup before the budget is declared spent.
      const timer = setTimeout(() => setImmediate(() => resolve(TIMED_OUT)), ms);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  async #compareAndSet(key: string, expected: string | undefined, value: string): Promise<boolean> {
    if (this.cache.compareAndSet) {
      try {
        return await this.cache.compareAndSet(key, expected, value, this.ttlMs);
      } catch (error) {
        if (!isLarderError(error, 'E_UNSUPPORTED_OPERATION')) throw error;
      }
    }
    // Without an atomic compare-and-set: check, then write (a racing invalidation can be missed).
    if ((await this.cache.get(key)) !== expected) return false;
    await this.cache.set(key, value, this.ttlMs);
    return true;
  }
}

function randomId(): string {
  return randomBytes(9).toString('base64url');
}
