import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Cache, isLarderError } from '@larder/core';
import { LookupBudget } from './budget';
import {
  type BodyRef,
  decodeEntry,
  encodeBody,
  encodeHead,
  isVaryHead,
  type StoredResponse,
  type VaryHead,
} from './entry';
import { bodyKey, variantKey } from './key';

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

const UNAVAILABLE: Lookup = Object.freeze({ kind: 'unavailable' });

/**
 * The middleware's storage protocol over a `Cache` (see the key layout in key.ts).
 * Never throws into a request: a failed or slow backend is reported as `unavailable` (fail open).
 */
export class ResponseStore {
  readonly #budget: LookupBudget;
  /** The store's calls, rejecting on every backend failure whatever the cache's `onError` (a `'miss'` cache would hide them). */
  private readonly cache: Cache;
  /** The store answers in-process (known after the first lookup): two single reads cost less than a batch, and no budget is timed. */
  #inProcess = false;

  constructor(
    cache: Cache,
    private readonly ttlMs: number,
    budgetMs: number,
  ) {
    this.cache = cache.withOptions({ onError: 'throw' });
    this.#budget = new LookupBudget(budgetMs);
    cache.capabilities().then(
      (capabilities) => {
        this.#inProcess = capabilities.inProcess;
      },
      () => {},
    );
  }

  /**
   * Whether to use the store now; when false the middleware skips it (the handler answers at
   * once): while the cache's health says the store is up (core counts every store call's outcome,
   * and probes the store while it is down).
   */
  available(): boolean {
    return this.cache.health().state === 'up';
  }

  /** Reads the entry for a request: base key and generation in one batched read, then the variant if the URI varies. */
  lookup(base: string, generation: string, headers: IncomingHttpHeaders): Promise<Lookup> {
    const read = this.#read(base, generation, headers);
    // An in-process store answers without I/O, within the turn: nothing to time.
    if (this.#inProcess) return read;
    // One budget for the whole lookup (both reads); past it the lookup is abandoned.
    return this.#budget.race(read, UNAVAILABLE);
  }

  /**
   * While the store is down (`available()` false): the lookup the cache's L1 answers within this
   * turn (no round trip), else `unavailable` at once; `undefined` for an in-process store. A
   * key the L1 lacks is still asked of the store: the breaker refuses it at once, or sends it as
   * its probe (whose answer closes it: nothing else may be asking the store meanwhile).
   */
  peek(base: string, generation: string, headers: IncomingHttpHeaders): Promise<Lookup> | undefined {
    if (this.#inProcess) return undefined;
    const turn = new Promise<Lookup>((resolve) => setImmediate(resolve, UNAVAILABLE));
    return Promise.race([this.#read(base, generation, headers, false), turn]);
  }

  async #read(base: string, generation: string, headers: IncomingHttpHeaders, down = true): Promise<Lookup> {
    try {
      // Head, generation and body in one round trip (a varying URI's base key holds no body).
      const [value, gen, body] = await this.#getAll([base, generation, bodyKey(base)]);
      if (down && !this.available()) return UNAVAILABLE;
      const current = typeof gen === 'string' ? gen : undefined;
      if (current === undefined) return { kind: 'miss', fwd: 'uri-miss', gen: undefined, head: undefined };
      if (isVaryHead(value)) {
        if (value.g !== current) return { kind: 'miss', fwd: 'uri-miss', gen: current, head: undefined };
        const key = variantKey(base, value.v, headers);
        const [variant, variantBody] = await this.#getAll([key, bodyKey(key)]);
        if (down && !this.available()) return UNAVAILABLE;
        return this.#result(decodeEntry(unwrap(variant), variantBody), 'vary-miss', current, value);
      }
      return this.#result(decodeEntry(unwrap(value), body), 'uri-miss', current, undefined);
    } catch {
      return UNAVAILABLE;
    }
  }

  /**
   * Stores a response. A resource without a generation gets one only if nobody created or
   * replaced it since the lookup (compare-and-set); an existing generation is confirmed after
   * the write, so a response whose resource was invalidated while its handler ran is never
   * served. The head and the body are two values: an entry that carries a `bodyRef` (a 304's
   * refresh of what the lookup read) rewrites its head only, and moves its body's expiry only when
   * the head would outlive it; any other entry gets a body of its own. Resolves false when it did
   * not store.
   */
  async fill(params: {
    base: string;
    generation: string;
    seen: Lookup & { kind: 'found' | 'miss' };
    vary: string[];
    headers: IncomingHttpHeaders;
    entry: Omit<StoredResponse, 'gen'>;
    /** A view whose writes carry the response's tags (`cache.tags(...)`), else the cache. */
    tagged?: Cache;
    /** Epoch ms until which the store keeps it (past its freshness, to revalidate it). @default its `expiresAt` */
    keepUntil?: number;
  }): Promise<boolean> {
    if (!this.available()) return false;
    const { base, generation, seen, vary, headers } = params;
    const tagged = params.tagged ?? this.cache;
    try {
      let gen = seen.gen;
      if (gen === undefined) {
        const fresh = randomId();
        if (!(await this.#compareAndSet(generation, undefined, fresh))) return false;
        gen = fresh;
      }
      const keep = params.keepUntil ?? params.entry.expiresAt;
      const key = vary.length === 0 ? base : variantKey(base, vary, headers);
      if (vary.length > 0) {
        const head = seen.head;
        if (!head || head.g !== gen || head.v.join(',') !== vary.join(',')) {
          await this.cache.set(base, { t: 'v', v: vary, g: gen } satisfies VaryHead, this.ttlMs);
        }
      }
      // The body the lookup read is reused only under the key it was read from.
      const readFrom = seen.head ? variantKey(base, seen.head.v, headers) : base;
      const reused = readFrom === key ? await this.#reuseBody(key, params.entry.bodyRef, keep) : undefined;
      // A body outlives its head by up to `ttl`: a 304 then rarely has to move its expiry.
      const ref = reused ?? { id: randomId(), until: keep + this.ttlMs };
      const encoded = encodeHead({ ...params.entry, gen }, ref);
      // A tagged head must be JSON text (core's tag section lives in its header): its bytes go as
      // base64. The body is never tagged: it stays raw bytes, and answers only with its head.
      const head =
        params.tagged === undefined ? encoded : ({ t: 'b', b: encoded.toString('base64') } satisfies Wrapped);
      await Promise.all([
        tagged.set(key, head, lifetimeMs(keep)),
        reused !== undefined
          ? undefined
          : this.cache.set(bodyKey(key), encodeBody(ref.id, params.entry.body), lifetimeMs(ref.until)),
      ]);
      // Keeps the generation alive at least as long as this entry, and only if it is unchanged.
      if (seen.gen !== undefined) return await this.#compareAndSet(generation, gen, gen);
      return true;
    } catch {
      // Not stored: a backend failure counts in the cache's health; tags this store cannot keep
      // (raw values) or refuses leave it available.
      return false;
    }
  }

  /**
   * Claims `name` for the fleet for `ttlMs` with the store's atomic `add`, under larder's reserved
   * lock namespace (`cache.lock`): the function that releases it, or `undefined` when another
   * instance holds it. A store that cannot claim (no atomic `add`, an error) counts as claimed
   * here: the work then runs in this process (fail open, once per process as before).
   */
  async claim(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    let lock: ReturnType<Cache['lock']>;
    try {
      lock = this.cache.lock(name, ttlMs);
      if (!(await lock.acquire())) return undefined;
    } catch {
      return noRelease;
    }
    return () => lock.release().then(noRelease, noRelease);
  }

  /** A view of the store's cache whose writes carry `tags`; throws `InvalidTagError` for a bad tag. */
  tagged(tags: readonly string[]): Cache {
    return this.cache.tags(tags);
  }

  /** Retires every stored response of a resource (all variants, all hosts). Resolves true if it had some. */
  async invalidate(generation: string): Promise<boolean> {
    const before = await this.cache.get(generation);
    await this.cache.set(generation, randomId(), this.ttlMs);
    return before !== undefined;
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

  #getAll(keys: string[]): Promise<unknown[]> {
    if (this.cache.getMany && !this.#inProcess) return this.cache.getMany(keys);
    return Promise.all(keys.map((key) => this.cache.get(key)));
  }

  /**
   * The body `ref` names, kept for a head stored until `keep`: as it is when it outlives the head,
   * else with its expiry moved (`touch`, no bytes rewritten); `undefined` when there is none to
   * reuse (no `ref`, the body is gone, or the store cannot touch).
   */
  async #reuseBody(key: string, ref: BodyRef | undefined, keep: number): Promise<BodyRef | undefined> {
    if (ref === undefined) return undefined;
    if (ref.until >= keep) return ref;
    const until = keep + this.ttlMs;
    try {
      return (await this.cache.touch(bodyKey(key), lifetimeMs(until))) ? { id: ref.id, until } : undefined;
    } catch (error) {
      if (isLarderError(error, 'E_UNSUPPORTED_OPERATION')) return undefined;
      throw error;
    }
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

/** A stored response written with tags: its encoded bytes as base64 text. */
interface Wrapped {
  t: 'b';
  b: string;
}

/** The bytes of a tagged (wrapped) entry, else the value as read. */
function unwrap(value: unknown): unknown {
  const wrapped = value as Wrapped | undefined;
  return typeof wrapped === 'object' && wrapped !== null && wrapped.t === 'b' && typeof wrapped.b === 'string'
    ? Buffer.from(wrapped.b, 'base64')
    : value;
}

async function noRelease(): Promise<void> {}

/** The store TTL (ms, at least 1) of something kept until `until`. */
function lifetimeMs(until: number): number {
  return Math.max(1, Math.ceil(until - Date.now()));
}

function randomId(): string {
  return randomBytes(9).toString('base64url');
}
