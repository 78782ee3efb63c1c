import {
  BackendError,
  type CacheStore,
  ConfigError,
  type Payload,
  type StoreCapabilities,
  type SyncStoreMethods,
  type TtlMs,
  ValueTooLargeError,
} from '@larder/core';
import { LRUCache } from 'lru-cache';
import { copiedSize, copyIn, copyOut } from './clone';
import { MEMORY_DEFAULTS, type MemoryStoreOptions, type ResolvedMemoryOptions } from './options';

// In the raw modes (`clone`, `reference`) the facade hands us the caller's values, typed as payloads.
type Stored = Payload | number | object;

const DECIMAL = /^-?\d+$/;
const utf8 = new TextDecoder();

/**
 * In-process store on lru-cache, bounded by entries and by (approximate) bytes. Every method
 * runs synchronously inside the returned promise, so `add`, `increment`, `pull` and
 * `compareAndDelete` are atomic within the process.
 */
export class MemoryStore implements CacheStore, SyncStoreMethods {
  readonly driver = 'memory';
  readonly capabilities: StoreCapabilities;
  /** The options in effect after defaults. */
  readonly options: ResolvedMemoryOptions;
  readonly #lru: LRUCache<string, Stored>;
  readonly #mode: ResolvedMemoryOptions['mode'];
  readonly #maxValueBytes: number;
  readonly #rawValueBytes: number;

  constructor(options: MemoryStoreOptions = {}) {
    this.options = resolveOptions(options);
    const { maxEntries, maxBytes, maxValueBytes, maxKeyBytes, mode, rawValueBytes } = this.options;
    this.#mode = mode;
    this.#maxValueBytes = maxValueBytes;
    this.#rawValueBytes = rawValueBytes;
    this.capabilities = {
      batch: true,
      atomicAdd: true,
      increment: true,
      locks: true,
      enumerate: true,
      clear: true,
      ttlPrecisionMs: 1,
      maxKeyBytes,
      maxValueBytes,
      readReplicas: false,
      inProcess: true,
      // The facade skips its codec: this store copies (or keeps) values itself.
      rawValues: mode !== 'codec',
    };
    this.#lru = new LRUCache<string, Stored>({
      max: maxEntries,
      maxSize: maxBytes,
      // Entries bigger than this are refused by lru-cache silently; values over maxValueBytes
      // are refused loudly first, so only the key can push an entry over: allow for it.
      maxEntrySize: Math.min(maxBytes, maxValueBytes + maxKeyBytes + 1),
      // String length stands in for bytes: exact for ASCII, and O(1) instead of a UTF-8 scan.
      // Copied values bring their size from the copy walk (see #write).
      sizeCalculation: (value, key) => key.length + sizeOf(value, rawValueBytes),
      // No timers: expiry is checked on every read (get/has/keys skip stale entries).
      ttlAutopurge: false,
      allowStale: false,
      // 0 = read the clock on every check: lru-cache otherwise caches "now" until a timer fires,
      // which never happens inside a tight await loop, so entries would outlive their TTL.
      ttlResolution: 0,
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

  /** Synchronous `set`, for the facade's in-process fast path; throws `ValueTooLargeError` like `set` rejects. */
  setSync(key: string, payload: Payload, ttlMs: TtlMs): void {
    this.#write(key, payload, ttlMs);
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
      const copies =
        this.#mode === 'clone'
          ? entries.map(([key, value]) => ({ key, value: copyIn(value) as Stored, size: copiedSize() }))
          : undefined;
      if (copies) {
        for (const copy of copies) this.#checkSize(copy.key, copy.size);
        for (const { key, value, size } of copies) {
          this.#lru.set(key, value, { ttl: ttlMs ?? 0, size: key.length + size });
        }
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

  /** Returns true if the key is present and not expired. */
  has(key: string): Promise<boolean> {
    return Promise.resolve(this.#lru.has(key));
  }

  /** Stores only if absent or expired; returns true if stored. */
  add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    if (this.#lru.has(key)) return Promise.resolve(false);
    try {
      this.#write(key, payload, ttlMs);
      return Promise.resolve(true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Adds `delta` to an integer value; a missing key starts at 0 with `ttlMs`, an existing one keeps its expiry. */
  increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    try {
      const current = this.#lru.get(key);
      if (current === undefined) {
        this.#lru.set(key, this.#counter(delta), { ttl: ttlMs ?? 0 });
        return Promise.resolve(delta);
      }
      const next = toInteger(current, key) + delta;
      if (!Number.isSafeInteger(next)) {
        throw new BackendError(`Counter '${key}' would leave the safe integer range`, this.driver);
      }
      this.#lru.set(key, this.#counter(next), { noUpdateTTL: true });
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
    const value = this.#lru.get(key);
    if (value === undefined) return Promise.resolve(false);
    // Same value, same size: only the expiry changes.
    const size = this.#lru.info(key)?.size;
    this.#lru.set(key, value, { ttl: ttlMs ?? 0, ...(size ? { size } : {}) });
    return Promise.resolve(true);
  }

  /** Deletes the key only if its payload equals `expected`. */
  compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    const value = this.#lru.get(key);
    if (value === undefined || !samePayload(value, expected)) return Promise.resolve(false);
    this.#lru.delete(key);
    return Promise.resolve(true);
  }

  /** Lists the live keys starting with `prefix` (a snapshot taken at the first step). */
  async *keys(prefix: string): AsyncIterable<string> {
    for (const key of this.#keysWith(prefix)) yield key;
  }

  /** Deletes every key starting with `prefix`, and nothing else. */
  clear(prefix: string): Promise<void> {
    for (const key of this.#keysWith(prefix)) this.#lru.delete(key);
    return Promise.resolve();
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

  #read(key: string): Stored | undefined {
    const value = this.#lru.get(key);
    if (value === undefined || typeof value !== 'object') return value;
    if (this.#mode === 'clone') return copyOut(value) as Stored;
    // Bytes are the one mutable payload: the codec decodes them as a view, so hand out a copy.
    return this.#mode === 'codec' && value instanceof Uint8Array ? value.slice() : value;
  }

  #write(key: string, payload: Stored, ttlMs: TtlMs): void {
    const ttl = ttlMs ?? 0;
    if (this.#mode === 'clone') {
      const value = copyIn(payload);
      const size = copiedSize();
      this.#checkSize(key, size);
      this.#lru.set(key, value as Stored, { ttl, size: key.length + size });
      return;
    }
    if (this.#mode === 'codec') {
      this.#lru.set(key, payload instanceof Uint8Array ? payload.slice() : payload, { ttl });
      return;
    }
    this.#checkSize(key, sizeOf(payload, this.#rawValueBytes));
    this.#lru.set(key, payload, { ttl });
  }

  #checkSize(key: string, size: number): void {
    // Codec payloads are checked by the facade; uncoded values only here.
    if (size > this.#maxValueBytes) throw new ValueTooLargeError(key, size, this.#maxValueBytes, this.driver);
  }

  #delete(key: string): boolean {
    // lru-cache's delete reports stale entries as deleted; an expired key did not exist.
    if (!this.#lru.has(key)) {
      this.#lru.delete(key);
      return false;
    }
    return this.#lru.delete(key);
  }

  #counter(value: number): Stored {
    // Raw mode hands values back uncoded, so a counter must be a number there; encoded mode
    // keeps the codec's plain decimal text.
    return this.#mode === 'codec' ? String(value) : value;
  }

  #keysWith(prefix: string): string[] {
    const keys: string[] = [];
    for (const key of this.#lru.keys()) if (key.startsWith(prefix)) keys.push(key);
    return keys;
  }
}

function sizeOf(value: Stored, rawValueBytes: number): number {
  if (typeof value === 'string') return value.length || 1;
  if (value instanceof Uint8Array) return value.byteLength || 1;
  if (typeof value === 'number') return 8;
  return rawValueBytes;
}

function toInteger(value: Stored, key: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  const text = typeof value === 'string' ? value : value instanceof Uint8Array ? utf8.decode(value) : undefined;
  if (text !== undefined && DECIMAL.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new BackendError(`Cannot increment '${key}': the stored value is not an integer`, 'memory');
}

function samePayload(a: Stored, b: Stored): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false;
  const bytesA = typeof a === 'string' ? Buffer.from(a) : a instanceof Uint8Array ? a : undefined;
  const bytesB = typeof b === 'string' ? Buffer.from(b) : b instanceof Uint8Array ? b : undefined;
  return bytesA !== undefined && bytesB !== undefined && Buffer.compare(bytesA, bytesB) === 0;
}

function resolveOptions(options: MemoryStoreOptions): ResolvedMemoryOptions {
  const maxEntries = positiveInt(options.maxEntries ?? MEMORY_DEFAULTS.maxEntries, 'maxEntries');
  const maxBytes = positiveInt(options.maxBytes ?? MEMORY_DEFAULTS.maxBytes, 'maxBytes');
  const maxValueBytes = positiveInt(
    options.maxValueBytes ?? Math.min(MEMORY_DEFAULTS.maxValueBytes, maxBytes),
    'maxValueBytes',
  );
  if (maxValueBytes > maxBytes) {
    throw new ConfigError(
      `memory store: maxValueBytes (${maxValueBytes}) must not exceed maxBytes (${maxBytes})`,
      'maxValueBytes',
    );
  }
  const maxKeyBytes = positiveInt(options.maxKeyBytes ?? MEMORY_DEFAULTS.maxKeyBytes, 'maxKeyBytes');
  const rawValueBytes = positiveInt(options.rawValueBytes ?? MEMORY_DEFAULTS.rawValueBytes, 'rawValueBytes');
  for (const name of ['clone', 'useCodec'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new ConfigError(`memory store: ${name} must be true or false, got ${String(options[name])}`, name);
    }
  }
  // A custom codec in the store config only takes effect if values go through the codec.
  const mode = options.useCodec || options.codec ? 'codec' : options.clone === false ? 'reference' : 'clone';
  return { maxEntries, maxBytes, maxValueBytes, maxKeyBytes, mode, rawValueBytes };
}

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`memory store: ${name} must be a positive integer, got ${String(value)}`, name);
  }
  return value;
}
