import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type Cache, isLarderError } from '@larder/core';
import { NOT_NOW, readNow } from '@larder/core/driver';
import { LookupBudget } from './budget';
import { type BodyRef, encodeBody, isVaryHead, type StoredResponse, type VaryHead } from './entry';
import { carriesBody, encodeHead } from './head';
import { HeadMemo } from './heads';
import { bodyKey, variantKey } from './key';
import { Memo } from './memo';

/** What a lookup found. */
export type Lookup =
  | {
      kind: 'found' | 'miss';
      /** The entry for this request (`found`). */
      entry?: StoredResponse;
      /** `vary-miss` when the URI varies and this variant is not stored. */
      fwd: 'uri-miss' | 'vary-miss';
      /** The vary head seen, if the URI varies. */
      head: VaryHead | undefined;
    }
  | { kind: 'unavailable' };

const UNAVAILABLE: Lookup = Object.freeze({ kind: 'unavailable' });
/** A head read whose body is a value of its own, still to read (`#wholeOf`). */
const BODY_APART = Symbol('body apart');

/**
 * What every head and vary head written through a resource's scope records in its `gen` field.
 * Entries of earlier layouts recorded a random generation id there and carry no scope, so a drop
 * cannot reach them: they read as misses, never as hits.
 */
export const SCOPED = 'scope';

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
  /**
   * The store keeps a response as one value (the head carrying its body's bytes): in process,
   * copying what it keeps (the memory driver's default), so sizing it by its bytes. A store
   * keeping references counts an object as a fixed estimate, which would hide the body from its
   * byte bound; one with a codec would write the bytes as base64 text inside JSON: for both the
   * body stays a value of its own.
   */
  #oneValue = false;
  readonly #heads = new HeadMemo();
  /**
   * The responses decoded from values read shared (`#entryNow`), by the value: the store hands out
   * the same object until it replaces or drops it, so a hit on any URL it holds decodes nothing.
   * A WeakMap: a decoded response lives as long as the store keeps its value, and no longer.
   */
  readonly #decoded = new WeakMap<object, StoredResponse>();
  /** The scope views of the last resources run or invalidated. */
  readonly #scopes = new Memo<string, ReturnType<Cache['scope']>>(1024);
  /** The pinned view this process wrote each key's head through last, and that head's body id and time (see `pinnedFor`). */
  readonly #writers = new Memo<string, { id: string; storedAt: number; view: Cache }>(1024);

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
        this.#oneValue =
          capabilities.inProcess && capabilities.rawValues === true && capabilities.checksRawValues === true;
      },
      () => {},
    );
  }

  /** The full key prefix of the store's cache (a resource's scope name carries it: key.ts `resourceScope`). */
  get prefix(): string {
    return this.cache.prefix;
  }

  /**
   * Whether to use the store now; when false the middleware skips it (the handler answers at
   * once): while the cache's health says the store is up (core counts every store call's outcome,
   * and probes the store while it is down).
   */
  available(): boolean {
    return this.cache.health().state === 'up';
  }

  /** Reads the entry for a request: head and body in one read, then the variant if the URI varies. */
  lookup(base: string, headers: IncomingHttpHeaders): Promise<Lookup> {
    const read = this.#read(base, headers);
    // An in-process store answers without I/O, within the turn: nothing to time.
    if (this.#inProcess) return read;
    // One budget for the whole lookup (both reads); past it the lookup is abandoned.
    return this.#budget.race(read, UNAVAILABLE);
  }

  /**
   * `lookup` answered within this call, where a response is one value and the store reads in
   * process (core's `readNow`): no promise per hit. `undefined` when only `lookup` can answer.
   */
  lookupNow(base: string, headers: IncomingHttpHeaders): Lookup | undefined {
    if (!this.#oneValue) return undefined;
    try {
      const found = this.#entryNow(base);
      if (found === undefined) return undefined;
      const [value, entry] = found;
      if (!this.available()) return UNAVAILABLE;
      if (!isVaryHead(value)) return result(entry, 'uri-miss', undefined);
      const variant = this.#entryNow(variantKey(base, value.v, headers));
      if (variant === undefined) return undefined;
      return this.available() ? result(variant[1], 'vary-miss', value) : UNAVAILABLE;
    } catch {
      return UNAVAILABLE;
    }
  }

  /**
   * While the store is down (`available()` false): the lookup the cache's L1 answers within this
   * turn (no round trip), else `unavailable` at once; `undefined` for an in-process store. A
   * key the L1 lacks is still asked of the store: the breaker refuses it at once, or sends it as
   * its probe (whose answer closes it: nothing else may be asking the store meanwhile).
   */
  peek(base: string, headers: IncomingHttpHeaders): Promise<Lookup> | undefined {
    if (this.#inProcess) return undefined;
    const turn = new Promise<Lookup>((resolve) => setImmediate(resolve, UNAVAILABLE));
    return Promise.race([this.#read(base, headers, false), turn]);
  }

  async #read(base: string, headers: IncomingHttpHeaders, down = true): Promise<Lookup> {
    try {
      // A dropped scope's heads read as misses: core checks their scope's counter with them.
      const [value, entry] = await this.#entryAt(base);
      if (down && !this.available()) return UNAVAILABLE;
      if (isVaryHead(value)) {
        const [, variant] = await this.#entryAt(variantKey(base, value.v, headers));
        if (down && !this.available()) return UNAVAILABLE;
        return result(variant, 'vary-miss', value);
      }
      return result(entry, 'uri-miss', undefined);
    } catch {
      return UNAVAILABLE;
    }
  }

  /**
   * The value at `key` and the stored response it makes. Where a response is one value
   * (`#oneValue`), one read: the head carries its body (head.ts `b`). Elsewhere head and body in
   * one round trip (a varying URI's base key holds no body), or the head alone where this process
   * read the whole response before and the head still names that body (a body id names one body's
   * bytes for good); a head that changed has its body read then.
   */
  async #entryAt(key: string): Promise<[unknown, StoredResponse | undefined]> {
    if (this.#oneValue || this.#heads.knowsBodyAt(key)) {
      const value = await this.cache.get(key);
      const whole = this.#wholeOf(value, key);
      if (whole !== BODY_APART) return [value, whole];
      return [value, this.#heads.entry(value, await this.cache.get(bodyKey(key)), key)];
    }
    const [value, body] = await this.#headAndBody(key);
    return [value, isVaryHead(value) ? undefined : this.#heads.entry(value, body, key)];
  }

  /**
   * `#entryAt` within this call (a one-value store read by `readNow`), else `undefined`. The values
   * read are the store's own, not copies (`shared`): a stored response is never changed, only
   * replaced, and the decoded heads this store keeps already share their bodies between hits.
   */
  #entryNow(key: string): [unknown, StoredResponse | undefined] | undefined {
    const value = readNow(this.cache, key, true);
    if (value === NOT_NOW) return undefined;
    const decoded = typeof value === 'object' && value !== null ? this.#decoded.get(value) : undefined;
    if (decoded !== undefined) return [value, decoded];
    const whole = this.#wholeOf(value, key);
    if (whole !== undefined && whole !== BODY_APART) this.#decoded.set(value as object, whole);
    if (whole !== BODY_APART) return [value, whole];
    const body = readNow(this.cache, bodyKey(key), true);
    return body === NOT_NOW ? undefined : [value, this.#heads.entry(value, body, key)];
  }

  /**
   * The stored response a value read at `key` makes without another read (a head whose whole
   * response this process read before, or one carrying its body), `undefined` for no response;
   * `BODY_APART` for a head whose body is a value of its own (written before the store's
   * capabilities were known, or by a store keeping references).
   */
  #wholeOf(value: unknown, key: string): StoredResponse | undefined | typeof BODY_APART {
    if (value === undefined || isVaryHead(value)) return undefined;
    const known = this.#heads.known(value, key);
    if (known !== undefined) return known;
    return carriesBody(value) ? this.#heads.entry(value, undefined, key) : BODY_APART;
  }

  /**
   * The view a handler run's response is written through: the resource's scope with its version
   * read now (`pin`), before the handler runs, so that an invalidation (a drop) after this read
   * hides what the run writes later, in every process. `undefined` when it cannot be read (the
   * store down, an error, past the lookup budget, a cache that cannot tag entries): the run then
   * stores nothing.
   */
  pin(scope: string): Promise<Cache | undefined> {
    // Nothing is stored while the store is down: the handler runs at once.
    if (!this.available()) return Promise.resolve(undefined);
    let pinned: Promise<Cache | undefined>;
    try {
      pinned = this.#scope(scope)
        .pin(this.ttlMs)
        .then(
          (view) => view as Cache,
          () => undefined,
        );
    } catch {
      return Promise.resolve(undefined);
    }
    return this.#inProcess ? pinned : this.#budget.race(pinned, undefined);
  }

  /**
   * The pinned view this process wrote the head of `entry` through, when the lookup found that very
   * head at `key` (its body id and time): the lookup checked the entry against the scope's counter,
   * so that view's versions were current then, and a run may write through it without pinning
   * again (a drop since the lookup still wins: what it writes reads as dropped). `undefined`: pin.
   */
  pinnedFor(key: string, entry: StoredResponse | undefined): Cache | undefined {
    const ref = entry?.bodyRef;
    if (ref === undefined || !this.available()) return undefined;
    const writer = this.#writers.get(key);
    return writer !== undefined && writer.id === ref.id && writer.storedAt === entry?.storedAt
      ? writer.view
      : undefined;
  }

  /**
   * Stores a response through `scoped`, the resource's scope as `pin` read it before the handler
   * ran: an invalidation since then wins (what it writes reads as a miss everywhere). The head and
   * the body are two values: an entry that carries a `bodyRef` (a 304's refresh of what the lookup
   * read) rewrites its head only, and moves its body's expiry only when the head would outlive it;
   * any other entry gets a body of its own. On an in-process store that copies its values they are
   * one value (`#oneValue`: the head carries its body's bytes). Resolves false when it did not store.
   */
  async fill(params: {
    base: string;
    /** The resource's pinned scope (`pin`). */
    scoped: Cache;
    seen: Lookup & { kind: 'found' | 'miss' };
    vary: string[];
    headers: IncomingHttpHeaders;
    entry: Omit<StoredResponse, 'gen'>;
    /** `scoped` with the response's tags (`scoped.tags(...)`), when it has some. */
    tagged?: Cache;
    /** Epoch ms until which the store keeps it (past its freshness, to revalidate it). @default its `expiresAt` */
    keepUntil?: number;
  }): Promise<boolean> {
    if (!this.available()) return false;
    const { base, scoped, seen, vary, headers } = params;
    try {
      const keep = params.keepUntil ?? params.entry.expiresAt;
      const key = vary.length === 0 ? base : variantKey(base, vary, headers);
      if (vary.length > 0) {
        const head = seen.head;
        // Through the scope (a drop removes it too), without the response's tags (other variants share it).
        if (!head || head.g !== SCOPED || head.v.join(',') !== vary.join(',')) {
          await scoped.set(base, { t: 'v', v: vary, g: SCOPED } satisfies VaryHead, this.ttlMs);
        }
      }
      const inline = this.#oneValue;
      // The body the lookup read is reused only under the key it was read from.
      const readFrom = readKey(base, seen, headers);
      const reused = readFrom === key && !inline ? await this.#reuseBody(key, params.entry.bodyRef, keep) : undefined;
      // A body outlives its head by up to `ttl`: a 304 then rarely has to move its expiry.
      const ref = reused ?? { id: randomId(), until: inline ? keep : keep + this.ttlMs };
      // The head is JSON (core keeps a tagged value's tag section in its header); the body is
      // never tagged: it stays raw bytes, and answers only with its head.
      const head = encodeHead(params.entry, ref, SCOPED, this.#inProcess, inline);
      await Promise.all([
        (params.tagged ?? scoped).set(key, head, lifetimeMs(keep)),
        reused !== undefined || inline
          ? undefined
          : this.cache.set(bodyKey(key), encodeBody(ref.id, params.entry.body), lifetimeMs(ref.until)),
      ]);
      this.#writers.keep(key, { id: ref.id, storedAt: params.entry.storedAt, view: scoped });
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

  /**
   * Retires every stored response of a resource (all variants, all hosts): drops its scope, a hard
   * invalidation on every instance (the L1 barrier). `report`: first reads whether the scope has
   * state (something was stored, or dropped, within its life), which it resolves; else true.
   */
  async invalidate(scope: string, report = false): Promise<boolean> {
    const group = this.#scope(scope);
    const had = report ? await group.exists() : true;
    await group.drop();
    return had;
  }

  #scope(name: string): ReturnType<Cache['scope']> {
    return this.#scopes.get(name) ?? this.#scopes.keep(name, this.cache.scope(name));
  }

  /** The values at `key` and at its body's key: one batched read, or two single ones from an in-process store. */
  #headAndBody(key: string): Promise<unknown[]> {
    if (this.cache.getMany && !this.#inProcess) return this.cache.getMany([key, bodyKey(key)]);
    return Promise.all([this.cache.get(key), this.cache.get(bodyKey(key))]);
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
}

/** The key a lookup of `base` read its entry from: the variant's when the URI varies. */
export function readKey(base: string, seen: { head?: VaryHead | undefined }, headers: IncomingHttpHeaders): string {
  return seen.head ? variantKey(base, seen.head.v, headers) : base;
}

/** What a lookup found: only an entry written through its resource's scope answers. */
function result(entry: StoredResponse | undefined, fwd: 'uri-miss' | 'vary-miss', head: VaryHead | undefined): Lookup {
  if (entry === undefined || entry.gen !== SCOPED) return { kind: 'miss', fwd, head };
  return { kind: 'found', entry, fwd, head };
}

async function noRelease(): Promise<void> {}

/** The store TTL (ms, at least 1) of something kept until `until`. */
function lifetimeMs(until: number): number {
  return Math.max(1, Math.ceil(until - Date.now()));
}

function randomId(): string {
  return randomBytes(9).toString('base64url');
}
