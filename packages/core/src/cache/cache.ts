import { ConfigError, describe } from '../contract/errors';
import type { CacheStore, StoreCapabilities } from '../contract/store';
import type { L1Description, StoreDescription } from '../contract/store-description';
import { RateLimiter } from '../rate-limit/limiter';
import type { RateLimiterOptions } from '../rate-limit/options';
import { normalizeTags, unionTags } from '../tags/tag-policy';
import { booleanHit, countHit, operationChannel, rememberHit, valueHit } from '../util/tracing';
import { assertKey, assertNamespace, LOCK_KEY_PREFIX, withSeparator } from '../values/key-policy';
import type { Ttl } from '../values/ttl';
import { Engine } from './engine';
import type { CacheEventName, CacheListener, CacheStats } from './events';
import { deleteMany, getMany, setMany } from './operations/batch';
import { compareAndSet } from './operations/compare-and-set';
import { type InvalidateTagsOptions, invalidateTags } from './operations/invalidate-tags';
import { addKey, decrementKey, deleteKey, hasKey, incrementKey, pullKey, touchKey } from './operations/key-operations';
import { clearPrefix, listKeys } from './operations/keyspace';
import { Lock } from './operations/lock';
import { storeLockBackend, withHeldLock } from './operations/lock-backend';
import { get, getNow, write } from './operations/read-write';
import { type ScopeMethods, scoped } from './operations/scope';
import type { CacheOptions, CacheViewOptions, Loader, RememberOptions, WithLockOptions } from './options';
import { rateLimitHost } from './rate-limit-host';
import { READ_NOW } from './read-now';
import { type LoadMany, type RememberManyOptions, tracedRememberMany } from './remember/batch-loader';
import { remember, rememberFromStore } from './remember/remember';
import { type RememberResult, rememberWithStatus } from './remember/remember-status';
import type { StoreHealth } from './store-breaker';
import { tracedBatch, tracedKey, tracedRemember } from './traced-calls';
import { withValuePipeline } from './value-pipeline';
import type { View } from './view';

/** How `namespace()` hands a namespace its engine and view through the public constructor. */
const SHARED = Symbol('larder.cache.shared');

/** What a namespace (or another view) of a cache shares with it. */
type Shared = { engine: Engine; view: View };

/**
 * The facade every app uses: serialization, key prefix and namespaces, key policy, default
 * TTL, events and stats, single-flight `remember` with grace and cross-process locks, and the
 * error policy. Stores (drivers) stay raw; see `CacheStore`. Each method is one call into an
 * operation module (operations/: read-write, key-operations, batch, remember, lock-backend,
 * keyspace) with the cache's private `Engine` (engine.ts: store, timeout, failure policy, events,
 * L1) and its `View` (prefix, error policy); when someone subscribes to `larder.operation`,
 * through traced-calls.ts around that call. See docs/architecture.md.
 */
export class Cache {
  readonly #engine: Engine;
  readonly #view: View;

  constructor(options: CacheOptions) {
    const shared = (options as (CacheOptions & { [SHARED]?: Shared }) | undefined)?.[SHARED];
    if (shared !== undefined) {
      this.#engine = shared.engine;
      this.#view = shared.view;
      return;
    }
    this.#engine = new Engine(withValuePipeline(options), storeLockBackend);
    this.#view = this.#engine.root;
  }

  /** Store name given in the options (`'default'` when none). */
  get name(): string {
    return this.#engine.name;
  }

  /** The error policy (`onError` option): whether failed backend calls reject or read as misses. */
  get onError(): 'throw' | 'miss' {
    return this.#view.onError;
  }

  /** Full key prefix of this cache (store prefix + namespace path). */
  get prefix(): string {
    return this.#view.prefix;
  }

  /** Resolves to the store (rejects if the store promise rejected). */
  getStore(): Promise<CacheStore> {
    return this.#engine.store();
  }

  /** Resolves to the store's capabilities. */
  async capabilities(): Promise<StoreCapabilities> {
    return (await this.#engine.store()).capabilities;
  }

  /** Returns the value, or `undefined` when absent, expired (or past a `remember` TTL, grace included). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'get', key, valueHit, () =>
        get(this.#engine, this.#view, key),
      ) as Promise<T>;
    return get(this.#engine, this.#view, key) as Promise<T | undefined>;
  }

  /** For larder's own packages (`readNow`): what `get` finds, within this call, or `NOT_NOW`. */
  [READ_NOW](key: string, shared?: boolean): unknown {
    return getNow(this.#engine, this.#view, key, shared);
  }

  /** Returns values aligned with `keys` (`undefined` for misses); one batched store call when the driver has one. */
  getMany<T = unknown>(keys: Iterable<string>): Promise<(T | undefined)[]> {
    if (operationChannel.hasSubscribers)
      return tracedBatch(this.#engine, 'getMany', keys, countHit, (l, trace) =>
        getMany<T>(this.#engine, this.#view, l, trace),
      );
    return getMany<T>(this.#engine, this.#view, keys);
  }

  /** Stores the value for `ttl` (default TTL when omitted; forever when there is none). */
  set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'set', key, undefined, () =>
        write(this.#engine, this.#view, key, value, ttl, 'set'),
      );
    return write(this.#engine, this.#view, key, value, ttl, 'set');
  }

  /** Stores every entry (a record or an iterable of `[key, value]`; the last duplicate wins) with one TTL; every value is validated before anything is sent. */
  setMany(entries: Record<string, unknown> | Iterable<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    if (operationChannel.hasSubscribers) {
      const list =
        typeof entries === 'object' && entries !== null && !(Symbol.iterator in entries)
          ? Object.entries(entries)
          : entries;
      return tracedBatch(this.#engine, 'setMany', list as Iterable<readonly [string, unknown]>, undefined, (l) =>
        setMany(this.#engine, this.#view, l, ttl),
      );
    }
    return setMany(this.#engine, this.#view, entries, ttl);
  }

  /** Stores the value only if the key is absent (atomic on the backend); resolves true if stored. */
  add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'add', key, undefined, () =>
        addKey(this.#engine, this.#view, key, value, ttl),
      );
    return addKey(this.#engine, this.#view, key, value, ttl);
  }

  /** Stores the value with no expiry (ignores the default TTL). */
  forever(key: string, value: unknown): Promise<void> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'forever', key, undefined, () =>
        write(this.#engine, this.#view, key, value, undefined, 'forever'),
      );
    return write(this.#engine, this.#view, key, value, undefined, 'forever');
  }

  /**
   * True if `get` would find a value. A live L1 entry answers; else reads the payload (one store `get`, no hit/miss counted):
   * a `remember` grace envelope past its logical TTL is still stored but is a miss for `get`,
   * so it is `false` here too. Plain values are not decoded.
   */
  has(key: string): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'has', key, booleanHit, () => hasKey(this.#engine, this.#view, key));
    return hasKey(this.#engine, this.#view, key);
  }

  /** Deletes the key; resolves true if it existed. */
  delete(key: string): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'delete', key, undefined, () =>
        deleteKey(this.#engine, this.#view, key),
      );
    return deleteKey(this.#engine, this.#view, key);
  }

  /**
   * Deletes the keys (duplicates once); resolves how many existed. One batched call when the
   * driver has one. `stats().deletes` grows by that count; a `delete` event is emitted per
   * distinct key, with `deleted` when known (see `CacheDeleteEvent`).
   */
  deleteMany(keys: Iterable<string>): Promise<number> {
    if (operationChannel.hasSubscribers)
      return tracedBatch(this.#engine, 'deleteMany', keys, undefined, (l) => deleteMany(this.#engine, this.#view, l));
    return deleteMany(this.#engine, this.#view, keys);
  }

  /** Returns the value and deletes it (atomic when the driver has `pull`, else get then delete). */
  pull<T = unknown>(key: string): Promise<T | undefined> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'pull', key, valueHit, () =>
        pullKey(this.#engine, this.#view, key),
      ) as Promise<T>;
    return pullKey(this.#engine, this.#view, key) as Promise<T | undefined>;
  }

  /**
   * Atomically adds `by` (a safe integer, default 1) and resolves the new value; a missing key
   * starts at 0 and gets `ttl`. Rejects on backend errors whatever `onError` says: there is
   * no honest counter value to invent.
   */
  increment(key: string, by = 1, ttl?: Ttl): Promise<number> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'increment', key, undefined, () =>
        incrementKey(this.#engine, this.#view, key, by, ttl),
      );
    return incrementKey(this.#engine, this.#view, key, by, ttl);
  }

  /** Atomically subtracts `by` (default 1); see `increment`. */
  decrement(key: string, by = 1, ttl?: Ttl): Promise<number> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'decrement', key, undefined, () =>
        decrementKey(this.#engine, this.#view, key, by, ttl),
      );
    return decrementKey(this.#engine, this.#view, key, by, ttl);
  }

  /** Sets a new expiry (`ttl`, else the default TTL, else none) without rewriting the value; resolves false if the key is absent. */
  touch(key: string, ttl?: Ttl): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'touch', key, undefined, () =>
        touchKey(this.#engine, this.#view, key, ttl),
      );
    return touchKey(this.#engine, this.#view, key, ttl);
  }

  /**
   * Stores `value` only if the stored value is still `expected` (compared encoded; `undefined` =
   * absent or expired); resolves true if stored. Atomic on drivers with `compareAndSet`, emulated
   * under a lock elsewhere (see compare-and-set.ts). Rejects on backend errors whatever `onError` says.
   */
  compareAndSet(key: string, expected: unknown, value: unknown, ttl?: Ttl): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#engine, this.#view, 'compareAndSet', key, undefined, () =>
        compareAndSet(this.#engine, this.#view, key, expected, value, ttl),
      );
    return compareAndSet(this.#engine, this.#view, key, expected, value, ttl);
  }

  /**
   * Returns the cached value, or runs `loader` once per key in this process (concurrent
   * callers share the run), caches its result for `ttl` and returns it. A loader result of
   * `undefined` is returned but not cached. When the backend fails, the loader's value is
   * returned anyway (an `error` event is emitted), whatever `onError` says. See
   * `RememberOptions` for `grace`, `lock`, `tags` and `timeout`; the loader gets a `LoaderContext`.
   */
  remember<T>(key: string, ttl: Ttl | undefined, loader: Loader<T>, options?: RememberOptions): Promise<T> {
    if (operationChannel.hasSubscribers)
      return tracedRemember(this.#engine, this.#view, 'remember', key, ttl, loader, options);
    return remember(this.#engine, this.#view, key, ttl, loader, options);
  }

  /** `remember`, resolving `{ value, status: 'hit' | 'miss' | 'graced', ageMs, tier }`: how the value was found (see `RememberResult`). */
  rememberWithStatus<T>(
    key: string,
    ttl: Ttl | undefined,
    loader: Loader<T>,
    options?: RememberOptions,
  ): Promise<RememberResult<T>> {
    if (!operationChannel.hasSubscribers)
      return rememberWithStatus(this.#engine, this.#view, key, ttl, loader, options);
    return tracedKey(this.#engine, this.#view, 'remember', key, rememberHit, (trace) =>
      rememberWithStatus(this.#engine, this.#view, key, ttl, loader, options, trace),
    );
  }

  /** `remember` for many keys: one read of them all, then `loadMany` called once with the distinct missing keys (see `LoadMany`). */
  rememberMany<T>(keys: Iterable<string>, ttl: Ttl | undefined, loadMany: LoadMany<T>, options?: RememberManyOptions) {
    return tracedRememberMany<T>(this.#engine, this.#view, keys, ttl, loadMany, options);
  }

  /** `remember` with no expiry. */
  rememberForever<T>(key: string, loader: Loader<T>): Promise<T> {
    if (operationChannel.hasSubscribers)
      return tracedRemember(this.#engine, this.#view, 'rememberForever', key, undefined, loader, undefined);
    return rememberFromStore(this.#engine, this.#view, key, undefined, loader, undefined);
  }

  /** A lock named `name` held for `ttl` (`owner`: act on one acquired elsewhere), stored in the reserved `__larder:lock:` namespace. */
  lock(name: string, ttl: Ttl, owner?: string): Lock {
    assertKey(name);
    const engine = this.#engine;
    return new Lock(engine.locks, `${engine.basePrefix}${LOCK_KEY_PREFIX}${this.#view.path}${name}`, ttl, owner);
  }

  /** Runs `fn` holding the lock `name`, released afterwards; without `wait` one try, else `LockTimeoutError` after it. */
  async withLock<T>(name: string, ttl: Ttl, fn: (lock: Lock) => T | Promise<T>, options?: WithLockOptions): Promise<T> {
    return withHeldLock(this.lock(name, ttl), options?.wait, fn);
  }

  /** A rate limiter on this cache's store, its counts under the reserved `__larder:rate:` namespace (see `RateLimiterOptions`). */
  rateLimiter(options: RateLimiterOptions): RateLimiter {
    return new RateLimiter(rateLimitHost(this.#engine, this.#view), options);
  }

  /**
   * This cache with other options, sharing its engine: the same store, keys, L1, single-flight,
   * events and stats. Only `onError` can differ (e.g. `{ onError: 'throw' }` for sessions, which
   * always fail closed, over a cache that fails open).
   */
  withOptions(options: CacheViewOptions): Cache {
    const onError = options?.onError ?? this.#view.onError;
    if (onError !== 'throw' && onError !== 'miss') {
      throw new ConfigError(`onError must be 'throw' or 'miss', got ${describe(onError)}`, 'onError');
    }
    return this.#share(this.#view.withOnError(onError));
  }

  /** A cache whose keys live under `<prefix><name>:`, sharing this cache's store, single-flight, events and stats. */
  namespace(name: string): Cache {
    assertNamespace(name);
    return this.#share(this.#view.namespace(withSeparator(name)));
  }

  /**
   * A view of this cache whose writes (`set`, `setMany`, `add`, `forever`, `remember`...) carry
   * `tags` besides this view's own (order and duplicates do not matter; `InvalidTagError` for a
   * bad one). Reads check an entry's tags through any view. See the core README "Tags".
   */
  tags(tags: readonly string[]): Cache {
    return this.#share(this.#view.withTags(unionTags(this.#view.tags, normalizeTags(tags))));
  }

  /**
   * Invalidates every entry carrying one of `tags`, on every instance: hard (default) they read as
   * misses once this resolves; `soft` they are stale, served only by `remember` with `grace` while
   * it refreshes. Rejects on backend errors whatever `onError` says.
   */
  invalidateTags(tags: readonly string[], options?: InvalidateTagsOptions): Promise<void> {
    return invalidateTags(this.#engine, this.#view, tags, options, operationChannel.hasSubscribers);
  }

  /** A view whose writes also carry the scope `name` (a group like a tag, under the store prefix; `InvalidTagError` for a bad name); its `drop()` invalidates them all like `invalidateTags`, on every instance (core README "Scopes"). */
  scope(name: string): Cache & ScopeMethods<Cache> {
    return scoped(this.#engine, this.#view, name, (view) => this.#share(view));
  }

  /** Deletes every key under this cache's prefix and nothing else; refuses (ConfigError) when the prefix is empty. */
  clear(): Promise<void> {
    return clearPrefix(this.#engine, this.#view, operationChannel.hasSubscribers);
  }

  /** Lists this cache's keys (without its prefix); each step is bounded by the timeout. */
  keys(): AsyncIterable<string> {
    return listKeys(this.#engine, this.#view);
  }

  /** Adds an event listener (shared with namespaces). */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#engine.on(event, listener);
    return this;
  }

  /** Removes an event listener. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#engine.off(event, listener);
    return this;
  }

  /** Counters since creation (shared with namespaces). */
  stats(): CacheStats {
    return this.#engine.stats();
  }

  /** The store up or down as every store call's outcome tells it (3 failures in a row: down), since when, and the last failure. */
  health(): StoreHealth {
    return this.#engine.health();
  }

  /** The L1 in front of the store (entries, bytes, bounds, invalidation mode and state), or `undefined` without one. */
  describeL1(): Promise<L1Description | undefined> {
    return this.#engine.describeL1();
  }

  /** Resolves whether an L1 is in front of the store (the `l1` option, a store that is not in-process): `describeL1()` without building the description. */
  hasL1(): Promise<boolean> {
    return this.#engine.hasL1();
  }

  /** Resolves when every live instance's L1 on this store has processed this process's invalidations sent before the call, or stopped serving (at once without an L1); `BackendError` `E_L1_BARRIER` when that cannot be known. */
  async syncL1(): Promise<void> {
    await (await this.#engine.ready()).reads.barrier();
  }

  /** Stops the L1 (empties it and closes its invalidation connections), leaving the store open; `close()` does it too. */
  closeL1(): Promise<void> {
    return this.#engine.closeL1();
  }

  /** The store's topology and health as data (`CacheStore.describe()`); `mode: 'unknown'` when the driver gives none; with an L1, `l1` (see `describeL1`); with the `breaker` option, `breaker` (`health()` as data). */
  describe(): Promise<StoreDescription> {
    return this.#engine.describe();
  }

  /** Closes the store (once; namespaces share it). */
  close(): Promise<void> {
    return this.#engine.close();
  }

  /** A `Cache` over this one's engine with another view. */
  #share(view: View): Cache {
    const shared: Shared = { engine: this.#engine, view };
    return new Cache({ [SHARED]: shared } as unknown as CacheOptions);
  }
}
