import { BackendError, type StoreDescription, ValueTooLargeError } from '@larder/core';
import {
  type CacheStore,
  copyBytes,
  copyInto,
  copyOut,
  ownedBytes,
  type Payload,
  type Plan,
  type StoreCapabilities,
  type SyncStoreMethods,
  type TtlMs,
  UNCOPYABLE_SIZE,
} from '@larder/core/driver';
import { LRUCache } from 'lru-cache';
import { compareAndSetSync, samePayload } from './compare-and-set';
import * as expiryClock from './expiry-clock';
import { GET_OPTIONS, PEEK_OPTIONS, sized } from './lru-options';
import { type MemoryStoreOptions, type ResolvedMemoryOptions, resolveOptions } from './options';
import { decideInMemory, stateBytes } from './rate-limit';
import { refuseUncopyable, type Stored, sizeOf, toInteger } from './stored-value';

/** One cached value: the stored form, its copy plan (clone mode, objects only) and its expiry. */
class Entry {
  constructor(
    /** The payload, copy or reference kept (see the store's mode). */
    public value: Stored,
    /** Copy plan of `value` in clone mode (`undefined` for primitives and in other modes). */
    public plan: Plan | undefined,
    /** Absolute expiry on the store clock (`performance.now()` ms); 0 = never. */
    public expires: number,
    /** The store's insertion count when this entry last moved to the recent end (see `#found`). */
    public moved = 0,
    /** When it was written, on the store clock (for `writtenAt`: raw values carry no metadata). */
    public readonly written = writeTime(),
  ) {}
}

// Local bindings: under tsx every call through an import costs a getter call, on the hot path.
const { expiryOf, isExpired, writeTime } = expiryClock;

const CODEC = 0;
const CLONE = 1;
const REFERENCE = 2;
const MODES = { codec: CODEC, clone: CLONE, reference: REFERENCE } as const;

/**
 * In-process store on lru-cache, bounded by entries and by (approximate) bytes. Every method
 * runs synchronously inside the returned promise, so `add`, `increment`, `pull` and
 * `compareAndDelete` are atomic within the process. Expiry is kept beside the value and checked
 * on a cached clock (see `isExpired` below), not by lru-cache's TTL machinery, which read the clock on
 * every call.
 */
export class MemoryStore implements CacheStore, SyncStoreMethods {
  readonly driver = 'memory';
  readonly capabilities: StoreCapabilities;
  /** The options in effect after defaults. */
  readonly options: ResolvedMemoryOptions;
  readonly #lru: LRUCache<string, Entry>;
  readonly #mode: number;
  readonly #maxValueBytes: number;
  readonly #rawValueBytes: number;
  /** Moves to the recent end of the LRU order so far (writes, and reads of older entries). */
  #moves = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.options = resolveOptions(options);
    const { maxEntries, maxBytes, maxValueBytes, maxKeyBytes, mode, rawValueBytes } = this.options;
    this.#mode = MODES[mode];
    this.#maxValueBytes = maxValueBytes;
    this.#rawValueBytes = rawValueBytes;
    this.capabilities = {
      atomicAdd: true,
      ttlPrecisionMs: 1,
      maxKeyBytes,
      maxValueBytes,
      inProcess: true,
      // The facade skips its codec: this store copies (or keeps) values itself.
      rawValues: mode !== 'codec',
      // The copy checks and sizes values in the same walk: the facade skips its own.
      checksRawValues: mode === 'clone',
    };
    this.#lru = new LRUCache<string, Entry>({
      max: maxEntries,
      maxSize: maxBytes,
      // Entries bigger than this are refused by lru-cache silently; values over maxValueBytes
      // are refused loudly first, so only the key can push an entry over: allow for it.
      maxEntrySize: Math.min(maxBytes, maxValueBytes + maxKeyBytes + 1),
      // Every write passes its size (string length stands in for bytes: exact for ASCII, O(1));
      // this is only a fallback.
      sizeCalculation: (entry, key) => key.length + sizeOf(entry.value, rawValueBytes),
      // No lru-cache TTL: expiry lives in the entry (see Entry, isExpired).
    });
  }

  /** Returns the payload (a copy for bytes), or `undefined` when absent or expired. */
  get(key: string): Promise<Payload | undefined> {
    return Promise.resolve(this.#read(key) as Payload | undefined);
  }

  /** Synchronous `get`, for the facade's in-process fast path. */
  getSync(key: string): Payload | undefined {
    return this.#read(key) as Payload | undefined;
  }

  /** `getSync` of the value this store keeps, not a copy of it: for readers that never change what they read. */
  getSyncShared(key: string): Payload | undefined {
    return this.#found(key)?.value as Payload | undefined;
  }

  /** Synchronous `set`, for the facade's in-process fast path; throws `ValueTooLargeError` like `set` rejects. */
  setSync(key: string, payload: Payload, ttlMs: TtlMs): void {
    this.#write(key, payload, ttlMs);
  }

  /** When the live entry of `key` was written (epoch ms; raw values carry no metadata), for `rememberWithStatus` after a hit. */
  writtenAt(key: string): number | undefined {
    const entry = this.#lru.peek(key, PEEK_OPTIONS);
    if (entry === undefined || (entry.expires !== 0 && isExpired(entry.expires))) return undefined;
    return expiryClock.epochOf(entry.written);
  }

  /** Stores the payload (bytes are copied), replacing any previous value. */
  set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    try {
      this.#write(key, payload, ttlMs);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns true if the key existed (and had not expired) and was deleted. */
  delete(key: string): Promise<boolean> {
    return Promise.resolve(this.#delete(key));
  }

  /** Returns payloads aligned with `keys`. */
  getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    return Promise.resolve(keys.map((key) => this.#read(key) as Payload | undefined));
  }

  /** Stores every entry with the same expiry. */
  setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    try {
      // Copy (and size-check) everything first, so a too-large value leaves nothing half-written.
      if (this.#mode === CLONE) {
        const expires = expiryOf(ttlMs);
        const copies = entries.map(([key, value]) => {
          const entry = new Entry(undefined as unknown as Stored, undefined, expires);
          return { key, entry, size: this.#copyInto(entry, key, value) };
        });
        for (const { key, entry, size } of copies) this.#put(key, entry, key.length + size);
      } else {
        for (const [key, payload] of entries) this.#write(key, payload, ttlMs);
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Deletes the keys; returns how many existed. */
  deleteMany(keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) if (this.#delete(key)) deleted++;
    return Promise.resolve(deleted);
  }

  /** True if the key is present and not expired (this store's own helper: `CacheStore` has no `has`, the facade reads through `get`). */
  has(key: string): Promise<boolean> {
    return Promise.resolve(this.#peek(key) !== undefined);
  }

  /** Stores only if absent or expired; returns true if stored. */
  add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    try {
      if (this.#mode === CLONE) {
        // Copy (and so check) first: a bad value is refused even when the key exists, as on every write.
        const entry = new Entry(undefined as unknown as Stored, undefined, ttlMs ? expiryOf(ttlMs) : 0);
        const size = this.#copyInto(entry, key, payload);
        if (this.#peek(key) !== undefined) return Promise.resolve(false);
        this.#put(key, entry, key.length + size);
        return Promise.resolve(true);
      }
      if (this.#peek(key) !== undefined) return Promise.resolve(false);
      this.#write(key, payload, ttlMs);
      return Promise.resolve(true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Adds `delta` to an integer value; a missing key starts at 0 with `ttlMs`, an existing one keeps its expiry. */
  increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    try {
      const current = this.#live(key);
      if (current === undefined) {
        this.#setCounter(key, delta, expiryOf(ttlMs));
        return Promise.resolve(delta);
      }
      const next = toInteger(current.value, key, this.#mode === CODEC) + delta;
      if (!Number.isSafeInteger(next)) {
        throw new BackendError(`Counter '${key}' would leave the safe integer range`, this.driver);
      }
      this.#setCounter(key, next, current.expires);
      return Promise.resolve(next);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns and deletes the payload. */
  pull(key: string): Promise<Payload | undefined> {
    const value = this.#read(key);
    if (value !== undefined) this.#lru.delete(key);
    return Promise.resolve(value as Payload | undefined);
  }

  /** Sets a new expiry (`undefined` = forever) without rewriting the value; false if absent. */
  touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    const entry = this.#live(key);
    if (entry === undefined) return Promise.resolve(false);
    // Same value, same size: only the expiry changes, in place.
    entry.expires = expiryOf(ttlMs);
    return Promise.resolve(true);
  }

  /** Deletes the key only if its payload equals `expected`. */
  compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    const entry = this.#live(key);
    if (entry === undefined || !samePayload(entry.value, expected)) return Promise.resolve(false);
    this.#lru.delete(key);
    return Promise.resolve(true);
  }

  /** Stores `payload` only if the stored payload equals `expected` (`undefined` = absent); true if stored. */
  compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    try {
      return Promise.resolve(compareAndSetSync(this, key, expected, payload, ttlMs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** One rate-limit decision, made synchronously with its state in the entry of `key` (see rate-limit.ts). */
  readonly rateLimit: CacheStore['rateLimit'] = (key, request) => {
    try {
      const { reply, state, expiresAt } = decideInMemory(this.#live(key)?.value, request, this.#maxValueBytes);
      if (state === undefined) this.#lru.delete(key);
      else this.#put(key, new Entry(state, undefined, expiresAt), key.length + stateBytes(state));
      return Promise.resolve(reply);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  /** Lists the live keys starting with `prefix` (a snapshot taken at the first step). */
  async *keys(prefix: string): AsyncIterable<string> {
    for (const key of this.#keysWith(prefix)) yield key;
  }

  /** Deletes every key starting with `prefix`, and nothing else. */
  clear(prefix: string): Promise<void> {
    for (const key of this.#keysWith(prefix)) this.#lru.delete(key);
    return Promise.resolve();
  }

  /** In-process: no nodes, nothing shared between app instances. */
  describe(): StoreDescription {
    return { driver: 'memory', topology: { mode: 'in-process', nodes: [] } };
  }

  /** Drops every entry. */
  close(): Promise<void> {
    this.#lru.clear();
    return Promise.resolve();
  }

  /** Number of live entries plus not-yet-noticed expired ones (for tests and stats). */
  get size(): number {
    return this.#lru.size;
  }

  /** Bytes currently counted against `maxBytes`. */
  get calculatedSize(): number {
    return this.#lru.calculatedSize;
  }

  /** The live entry (recency updated), or undefined; an expired one is dropped. */
  #live(key: string): Entry | undefined {
    GET_OPTIONS.status = undefined;
    const entry = this.#lru.get(key, GET_OPTIONS);
    if (entry !== undefined) entry.moved = ++this.#moves;
    if (entry === undefined || !isExpired(entry.expires)) return entry;
    this.#lru.delete(key);
    return undefined;
  }

  /** Like `#live` without updating recency (has/add: a check is not a use). */
  #peek(key: string): Entry | undefined {
    const entry = this.#lru.peek(key);
    if (entry === undefined || !isExpired(entry.expires)) return entry;
    this.#lru.delete(key);
    return undefined;
  }

  #read(key: string): Stored | undefined {
    const entry = this.#found(key);
    if (entry === undefined) return undefined;
    const value = entry.value;
    if (typeof value !== 'object') return value;
    if (this.#mode === CLONE) return copyOut(value, entry.plan) as Stored;
    // Bytes are the one mutable payload: the codec decodes them as a view, so hand out a copy
    // (`copyBytes`: a Buffer's own `slice` is a view too).
    return this.#mode === CODEC && value instanceof Uint8Array ? copyBytes(value) : value;
  }

  /** The live entry of `key` for a read (moved toward the recent end when old); `undefined` when absent or expired. */
  #found(key: string): Entry | undefined {
    // Approximate recency, like Redis's approximated LRU: an entry that moved to the recent end
    // fewer than size/2 moves ago is still in the recent half, so a read leaves it in place
    // (lru-cache's `peek`, about a third cheaper than `get`); an older one is moved as `get` does.
    const entry = this.#lru.peek(key, PEEK_OPTIONS);
    if (entry === undefined) return undefined;
    if (this.#moves - entry.moved >= this.#lru.size >>> 1) {
      GET_OPTIONS.status = undefined;
      this.#lru.get(key, GET_OPTIONS);
      entry.moved = ++this.#moves;
    }
    if (entry.expires !== 0 && isExpired(entry.expires)) {
      this.#lru.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, payload: Stored, ttlMs: TtlMs): void {
    const expires = ttlMs ? expiryOf(ttlMs) : 0;
    if (this.#mode === CLONE) {
      const entry = new Entry(undefined as unknown as Stored, undefined, expires);
      this.#put(key, entry, key.length + this.#copyInto(entry, key, payload));
      return;
    }
    if (this.#mode === CODEC) {
      const value = payload instanceof Uint8Array ? ownedBytes(payload) : payload;
      this.#put(key, new Entry(value, undefined, expires), key.length + sizeOf(value, 1));
      return;
    }
    const size = sizeOf(payload, this.#rawValueBytes);
    this.#checkSize(key, size);
    this.#put(key, new Entry(payload, undefined, expires), key.length + size);
  }

  /** Stores an entry at the recent end of the LRU order. */
  #put(key: string, entry: Entry, size: number): void {
    entry.moved = ++this.#moves;
    this.#lru.set(key, entry, sized(size));
  }

  #setCounter(key: string, value: number, expires: number): void {
    // Raw mode hands values back uncoded, so a counter must be a number there; encoded mode
    // keeps the codec's plain decimal text.
    const stored = this.#mode === CODEC ? String(value) : value;
    this.#put(key, new Entry(stored, undefined, expires), key.length + sizeOf(stored, 1));
  }

  /** Copies a value into its entry; returns its size, or throws what the facade's check would (see `checksRawValues`). */
  #copyInto(entry: Entry, key: string, value: unknown): number {
    const size = copyInto(entry, value);
    if (size === UNCOPYABLE_SIZE) refuseUncopyable(key, value, this.#maxValueBytes);
    this.#checkSize(key, size);
    return size;
  }

  #checkSize(key: string, size: number): void {
    // Codec payloads are checked by the facade; uncoded values only here.
    if (size > this.#maxValueBytes) throw new ValueTooLargeError(key, size, this.#maxValueBytes, this.driver);
  }

  #delete(key: string): boolean {
    // An expired key did not exist (but is dropped all the same).
    if (this.#peek(key) === undefined) return false;
    return this.#lru.delete(key);
  }

  #keysWith(prefix: string): string[] {
    const keys: string[] = [];
    for (const [key, entry] of this.#lru.entries()) {
      if (key.startsWith(prefix) && !isExpired(entry.expires)) keys.push(key);
    }
    return keys;
  }
}
