import type { InvalidationMode, InvalidationOptions, InvalidationSource } from './invalidation';
import type { RateLimitReply, RateLimitRequest } from './rate-limit';
import type { StoreDescription } from './store-description';

/**
 * The driver contract. A `CacheStore` is small and raw, like Laravel's `Store`: it sees
 * full keys (prefix already applied by the facade), encoded payloads and relative expiry
 * in milliseconds. Serialization, prefixing, defaults, `remember`, locks, events and the
 * error policy live once, in the `Cache` facade.
 */

/** An encoded value as a driver stores it. Drivers must return the bytes they were given;
 * they may return a `string` as a `Uint8Array` (or the reverse) when the backend does not keep
 * the distinction: codecs decode both. */
export type Payload = string | Uint8Array;

/** Relative time to live in milliseconds; `undefined` means no expiry. Always > 0 when set. */
export type TtlMs = number | undefined;

/**
 * What a driver is: properties of the backend, read by the facade and the conformance suite. What
 * a driver can do is not here: an optional method of `CacheStore` that is present is the capability
 * to call it (`keys`, `clear`, `increment`, `compareAndSet`, the batch methods...).
 */
export interface StoreCapabilities {
  /** `add` is an atomic set-if-absent on the backend (a non-atomic `add` cannot hold a lock). */
  readonly atomicAdd: boolean;
  /** Smallest expiry step the backend honours, in ms (1 for Redis/memory, 1000 for memcached/DynamoDB). */
  readonly ttlPrecisionMs: number;
  /** Longest full key (prefix included) in UTF-8 bytes the facade may pass; longer keys fail with `InvalidKeyError`. */
  readonly maxKeyBytes: number;
  /** Largest payload in bytes; larger values fail with `ValueTooLargeError` before anything is sent. */
  readonly maxValueBytes: number;
  /** The store lives in this process: the facade skips its per-call timeout. */
  readonly inProcess: boolean;
  /**
   * The store bounds every call but `clear` itself: each settles (a `TimeoutError` at worst)
   * within this many ms, retries included. When that is within the cache's `timeout`, the store
   * owns the timeout and the facade arms no timer of its own (one timer per remote call);
   * otherwise the facade's shorter timer is the bound. Absent: the facade bounds every call.
   */
  readonly deadlineMs?: number;
  /** The store keeps values as given (no codec): the memory driver's opt-out, for speed. */
  readonly rawValues?: boolean;
  /**
   * With `rawValues`: every write refuses what the codec would refuse (`SerializationError`:
   * functions, symbols, cycles, top-level undefined or NaN) and values over `maxValueBytes`
   * (`ValueTooLargeError`) before storing anything, so the facade skips its own walk of the value.
   */
  readonly checksRawValues?: boolean;
}

/**
 * Optional synchronous fast path of in-process stores (`capabilities.inProcess`): the same
 * contract as `get`/`set`, answered without a promise. When a store has them, the facade's
 * `get`, `set` and `remember` hits call them and return one settled promise, skipping an
 * await per call. Errors they throw go through the failure policy like rejections.
 */
export interface SyncStoreMethods {
  /** Synchronous `get`. */
  getSync?(key: string): Payload | undefined;
  /**
   * `getSync` of the value the store keeps, not the copy `getSync` hands out (a store that copies
   * what it keeps): for larder's own readers, which never change what they read.
   */
  getSyncShared?(key: string): Payload | undefined;
  /** Synchronous `set`. */
  setSync?(key: string, payload: Payload, ttlMs: TtlMs): void;
  /**
   * When the live entry of `key` was written (epoch ms), `undefined` when absent or expired: for
   * stores whose entries carry no metadata header (`rawValues`), so `rememberWithStatus` can
   * report a hit's `ageMs`. Read only after a hit, never on the `get` path.
   */
  writtenAt?(key: string): number | undefined;
}

/** A cache backend. An optional method is implemented or absent (never a stub that refuses): the
 * facade emulates what is missing where that is safe and throws `UnsupportedOperationError` naming
 * the driver where it is not. */
export interface CacheStore {
  /** Driver name, used in errors and events (e.g. `redis`, `memcached`). */
  readonly driver: string;
  /** What this store can do. */
  readonly capabilities: StoreCapabilities;
  /** The server its calls go to first, `host:port` (the first primary or node; traces name it as `server.address`); absent in process. */
  readonly address?: string;

  /** Returns the payload, or `undefined` when absent or expired. */
  get(key: string): Promise<Payload | undefined>;
  /** Stores the payload, replacing any previous value. */
  set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void>;
  /** Returns true if the key existed and was deleted, false otherwise. */
  delete(key: string): Promise<boolean>;

  /** Returns payloads aligned with `keys` (which are distinct). */
  getMany?(keys: readonly string[]): Promise<(Payload | undefined)[]>;
  /** Stores every entry with the same expiry (keys are distinct). */
  setMany?(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void>;
  /** Deletes the keys (distinct); returns how many existed. */
  deleteMany?(keys: readonly string[]): Promise<number>;
  /** Stores only if absent (or expired); returns true if stored. */
  add?(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean>;
  /**
   * Adds `delta` (may be negative) to an integer value stored as plain decimal text and returns
   * the new value. A missing or expired key starts at 0 and gets `ttlMs` (when given); an
   * existing key keeps its expiry. A non-integer value rejects with `BackendError`.
   */
  increment?(key: string, delta: number, ttlMs: TtlMs): Promise<number>;
  /** Returns and deletes the payload atomically where the backend allows. */
  pull?(key: string): Promise<Payload | undefined>;
  /** Sets a new expiry without rewriting the value; returns false if the key is absent. */
  touch?(key: string, ttlMs: TtlMs): Promise<boolean>;
  /**
   * The first bytes of the payload at `key` (at least its metadata header: `ENTRY_FORMAT.MAX_HEADER`
   * + 1), `undefined` when absent, read where the store's invalidations are tracked: an L1 checks a
   * life extension with it instead of reading the value again (`l1/extension.ts`).
   */
  head?(key: string): Promise<Payload | undefined>;
  /** Deletes the key only if its payload equals `expected` (owner-checked lock release). */
  compareAndDelete?(key: string, expected: Payload): Promise<boolean>;
  /**
   * Atomically (a store that cannot do it atomically has no `compareAndSet`) stores `payload` only if the stored payload equals `expected` byte for byte
   * (`undefined` = absent or expired); returns true if stored. The new value gets `ttlMs`.
   */
  compareAndSet?(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean>;
  /**
   * Tags, one round trip: the payload of `key` and, when it is a tagged entry, the counters of the
   * tags its tag section names (counter key `tagPrefix + tag`, in the section's order; see the core
   * README "Tags"). A store without it is read with `get`, then `getMany` of the counters.
   */
  getWithTags?(key: string, tagPrefix: string): Promise<TaggedRead>;
  /**
   * Tags: each counter's current value; a missing one is created at `starts[i]`. Every counter's
   * expiry is made at least `ttlMs` from now and never shortened (`undefined`: no expiry). Atomic
   * per counter. A store without it: `add`, `get` and `touch` per counter (a `touch` may shorten).
   */
  tagVersions?(keys: readonly string[], starts: readonly number[], ttlMs: TtlMs): Promise<number[]>;
  /**
   * Tags, one round trip: `tagVersions` of `entry.counters` (a missing one made at `entry.start`, kept at
   * least `entry.counterTtlMs`; an `extend[i]` of false skips the expiry check of a counter the
   * caller knows outlives that), then, atomically with it, `key` set to `entry.head`, the tag
   * section of `entry.tags` with those versions and `entry.tail`, kept `ttlMs`. Returns the versions
   * and what it learnt of the counters' lives. A store without it: `tagVersions`, then `set`.
   */
  setTagged?(key: string, entry: TaggedEntry, ttlMs: TtlMs): Promise<TaggedWriteReply>;
  /** Tags: atomically adds `delta` to each counter that exists; a missing counter stays missing. */
  bumpTags?(keys: readonly string[], delta: number): Promise<void>;
  /** Lists the keys starting with `prefix` (a store that cannot has no `keys`). */
  keys?(prefix: string): AsyncIterable<string>;
  /** Deletes every key starting with `prefix`, and nothing else. `prefix` is never empty. */
  clear?(prefix: string): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
  /** Topology and health as plain data, no secrets (`larder doctor`, health pages). */
  describe?(): Promise<StoreDescription> | StoreDescription;
  /** An invalidation channel for an L1 in front of this store (`tracking`: server-assisted, Redis; `bus`), or `undefined` when the driver has none for `mode`. */
  invalidation?(mode: InvalidationMode, options: InvalidationOptions): InvalidationSource | undefined;
  /** One rate-limit decision about `key`, atomic, in one round trip, on the store's clock; UnsupportedOperationError for an algorithm it cannot run exactly. */
  rateLimit?(key: string, request: RateLimitRequest): Promise<RateLimitReply>;
}

/**
 * What `getWithTags` answers: the payload, and the tag counters its entry names (empty when
 * untagged or absent), or `true` when the store compared them itself and each equals the version
 * the entry recorded (the common read: nothing left to check).
 */
export type TaggedRead = readonly [Payload | undefined, readonly (Payload | undefined)[] | true];

/**
 * A tagged entry for `setTagged`: the stored text is `head` (the metadata header), the tag section
 * (`\u0002<tag>\u0003<version>\u0004<tag>...\u0002`, core README "Tags") and `tail` (the value).
 */
export interface TaggedEntry {
  readonly head: string;
  readonly tail: string;
  /** The tags, in the section's order; counter `i` is the counter of `tags[i]`. */
  readonly tags: readonly string[];
  readonly counters: readonly string[];
  /**
   * The version a counter this write makes starts at: a fresh random epoch per write
   * (`randomStart`), so a counter lost and made again never matches what entries recorded from the
   * lost one. A driver that joins writes into one call may make all its counters at one of them.
   */
  readonly start: number;
  /** Per counter: whether to make its expiry at least `counterTtlMs` (false: the caller knows it does). */
  readonly extend: readonly boolean[];
  readonly counterTtlMs: TtlMs;
}

/** What `setTagged` answers. */
export interface TaggedWriteReply {
  /** Each counter's version, as the entry recorded it. */
  readonly versions: readonly number[];
  /** Per counter: the ms it had left when checked or made (`Infinity`: no expiry; `undefined`: not checked). */
  readonly lifeMs: readonly (number | undefined)[];
}

/** What a driver factory receives besides its own config. */
export interface DriverContext {
  /** Name of the store in the manager's config (e.g. `default`, `sessions`). */
  readonly storeName: string;
  /** The environment the config came from (for drivers that read extra variables). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Builds a store from its config. May be async (lazy client set-up). */
export type DriverFactory<C = Record<string, unknown>> = (
  config: C,
  context: DriverContext,
) => CacheStore | Promise<CacheStore>;
