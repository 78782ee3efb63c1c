import { describe, InvalidArgumentError } from '../contract/errors';
import type { CacheStore, StoreCapabilities } from '../contract/store';
import type { L1Description, StoreDescription } from '../contract/store-description';
import { rateLimitHost } from '../rate-limit/host';
import { RateLimiter } from '../rate-limit/limiter';
import type { RateLimiterOptions } from '../rate-limit/options';
import { booleanHit, countHit, operationChannel, rememberHit, traceOperation, valueHit } from '../util/tracing';
import { assertKey, assertNamespace, LOCK_KEY_PREFIX, withSeparator } from '../values/key-policy';
import type { Ttl } from '../values/ttl';
import { type CacheContext, createContext } from './context';
import type { CacheEventName, CacheListener, CacheStats } from './events';
import { closeCache, describeCache } from './lifecycle';
import { deleteMany, getMany, setMany } from './operations/batch';
import { compareAndSet } from './operations/compare-and-set';
import { addKey, deleteKey, hasKey, incrementKey, pullKey, touchKey } from './operations/key-operations';
import { clearPrefix, listKeys } from './operations/keyspace';
import { Lock } from './operations/lock';
import { storeLockBackend, withHeldLock } from './operations/lock-backend';
import { OperationPath } from './operations/operation';
import { type RememberResult, remember, rememberFromStore, rememberWithStatus } from './operations/remember';
import type { CacheOptions, RememberOptions, WithLockOptions } from './options';
import { tracedBatch, tracedKey, tracedRemember } from './traced-calls';

export type { SyncStoreMethods } from './context';
export type { RememberResult } from './operations/remember';
export type { CacheOptions, RememberOptions, WithLockOptions } from './options';

/** How `namespace()` hands a namespace its operation path through the public constructor. */
const NAMESPACE = Symbol('larder.cache.namespace');

/**
 * The facade every app uses: serialization, key prefix and namespaces, key policy, default
 * TTL, events and stats, single-flight `remember` with grace and cross-process locks, and the
 * error policy. Stores (drivers) stay raw; see `CacheStore`. Each method is one call into the
 * cache's `OperationPath` (operation.ts: timeout, failure policy, events, decode, grace) or into
 * an operation module over it (key-operations, batch, remember, lock-backend, keyspace); when
 * someone subscribes to `larder.operation`, through traced-calls.ts around that call.
 */
export class Cache {
  readonly #ops: OperationPath;

  constructor(options: CacheOptions) {
    const namespaced = (options as (CacheOptions & { [NAMESPACE]?: OperationPath }) | undefined)?.[NAMESPACE];
    if (namespaced !== undefined) {
      this.#ops = namespaced;
      return;
    }
    const context = createContext(options);
    this.#ops = new OperationPath(context, context.basePrefix, '');
    context.locks = storeLockBackend(this.#ops);
  }

  /** Store name given in the options (`'default'` when none). */
  get name(): string {
    return this.#context.name;
  }

  /** The error policy (`onError` option): whether failed backend calls reject or read as misses. */
  get onError(): 'throw' | 'miss' {
    return this.#context.onError;
  }

  /** Full key prefix of this cache (store prefix + namespace path). */
  get prefix(): string {
    return this.#ops.prefix;
  }

  /** Resolves to the store (rejects if the store promise rejected). */
  getStore(): Promise<CacheStore> {
    return this.#context.ready;
  }

  /** Resolves to the store's capabilities. */
  async capabilities(): Promise<StoreCapabilities> {
    return (await this.#context.ready).capabilities;
  }

  /** Returns the value, or `undefined` when absent, expired (or past a `remember` TTL, grace included). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'get', key, valueHit, () => this.#ops.get(key)) as Promise<T>;
    return this.#ops.get(key) as Promise<T | undefined>;
  }

  /** Returns values aligned with `keys` (`undefined` for misses); one batched store call when the driver has one. */
  getMany<T = unknown>(keys: Iterable<string>): Promise<(T | undefined)[]> {
    if (operationChannel.hasSubscribers)
      return tracedBatch(this.#ops, 'getMany', keys, countHit, (l) => getMany<T>(this.#ops, l));
    return getMany<T>(this.#ops, keys);
  }

  /** Stores the value for `ttl` (default TTL when omitted; forever when there is none). */
  set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'set', key, undefined, () => this.#ops.write(key, value, ttl, 'set'));
    return this.#ops.write(key, value, ttl, 'set');
  }

  /** Stores every entry (a record or an iterable of `[key, value]`; the last duplicate wins) with one TTL; every value is validated before anything is sent. */
  setMany(entries: Record<string, unknown> | Iterable<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    if (operationChannel.hasSubscribers) {
      const list =
        typeof entries === 'object' && entries !== null && !(Symbol.iterator in entries)
          ? Object.entries(entries)
          : entries;
      return tracedBatch(this.#ops, 'setMany', list as Iterable<readonly [string, unknown]>, undefined, (l) =>
        setMany(this.#ops, l, ttl),
      );
    }
    return setMany(this.#ops, entries, ttl);
  }

  /** Stores the value only if the key is absent (atomic on the backend); resolves true if stored. */
  add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'add', key, undefined, () => addKey(this.#ops, key, value, ttl));
    return addKey(this.#ops, key, value, ttl);
  }

  /** Stores the value with no expiry (ignores the default TTL). */
  forever(key: string, value: unknown): Promise<void> {
    const ops = this.#ops;
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'forever', key, undefined, () => ops.write(key, value, undefined, 'forever'));
    return ops.write(key, value, undefined, 'forever');
  }

  /**
   * True if `get` would find a value. A live L1 entry answers; else reads the payload (one store `get`, no hit/miss counted):
   * a `remember` grace envelope past its logical TTL is still stored but is a miss for `get`,
   * so it is `false` here too. Plain values are not decoded.
   */
  has(key: string): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'has', key, booleanHit, () => hasKey(this.#ops, key));
    return hasKey(this.#ops, key);
  }

  /** Deletes the key; resolves true if it existed. */
  delete(key: string): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'delete', key, undefined, () => deleteKey(this.#ops, key));
    return deleteKey(this.#ops, key);
  }

  /**
   * Deletes the keys (duplicates once); resolves how many existed. One batched call when the
   * driver has one. `stats().deletes` grows by that count; a `delete` event is emitted per
   * distinct key, with `deleted` when known (see `CacheDeleteEvent`).
   */
  deleteMany(keys: Iterable<string>): Promise<number> {
    if (operationChannel.hasSubscribers)
      return tracedBatch(this.#ops, 'deleteMany', keys, undefined, (l) => deleteMany(this.#ops, l));
    return deleteMany(this.#ops, keys);
  }

  /** Returns the value and deletes it (atomic when the driver has `pull`, else get then delete). */
  pull<T = unknown>(key: string): Promise<T | undefined> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'pull', key, valueHit, () => pullKey(this.#ops, key)) as Promise<T>;
    return pullKey(this.#ops, key) as Promise<T | undefined>;
  }

  /**
   * Atomically adds `by` (a safe integer, default 1) and resolves the new value; a missing key
   * starts at 0 and gets `ttl`. Rejects on backend errors whatever `onError` says: there is
   * no honest counter value to invent.
   */
  increment(key: string, by = 1, ttl?: Ttl): Promise<number> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'increment', key, undefined, () => incrementKey(this.#ops, key, by, ttl));
    return incrementKey(this.#ops, key, by, ttl);
  }

  /** Atomically subtracts `by` (default 1); see `increment`. */
  decrement(key: string, by = 1, ttl?: Ttl): Promise<number> {
    if (!Number.isSafeInteger(by)) {
      return Promise.reject(new InvalidArgumentError(`decrement needs a safe integer step, got ${describe(by)}`, 'by'));
    }
    // 0 - by, not -by: decrement(key, 0) must not start a counter at -0 (Object.is(-0, 0) is false).
    const step = 0 - by;
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'decrement', key, undefined, () => incrementKey(this.#ops, key, step, ttl));
    return incrementKey(this.#ops, key, step, ttl);
  }

  /** Sets a new expiry (`ttl`, else the default TTL, else none) without rewriting the value; resolves false if the key is absent. */
  touch(key: string, ttl?: Ttl): Promise<boolean> {
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'touch', key, undefined, () => touchKey(this.#ops, key, ttl));
    return touchKey(this.#ops, key, ttl);
  }

  /**
   * Stores `value` only if the stored value is still `expected` (compared encoded; `undefined` =
   * absent or expired); resolves true if stored. Atomic on drivers with `compareAndSet`, emulated
   * under a lock elsewhere (see compare-and-set.ts). Rejects on backend errors whatever `onError` says.
   */
  compareAndSet(key: string, expected: unknown, value: unknown, ttl?: Ttl): Promise<boolean> {
    const ops = this.#ops;
    if (operationChannel.hasSubscribers)
      return tracedKey(this.#ops, 'compareAndSet', key, undefined, () => compareAndSet(ops, key, expected, value, ttl));
    return compareAndSet(ops, key, expected, value, ttl);
  }

  /**
   * Returns the cached value, or runs `loader` once per key in this process (concurrent
   * callers share the run), caches its result for `ttl` and returns it. A loader result of
   * `undefined` is returned but not cached. When the backend fails, the loader's value is
   * returned anyway (an `error` event is emitted), whatever `onError` says. See
   * `RememberOptions` for `grace` and `lock`.
   */
  remember<T>(key: string, ttl: Ttl | undefined, loader: () => T | Promise<T>, options?: RememberOptions): Promise<T> {
    if (operationChannel.hasSubscribers) return tracedRemember(this.#ops, 'remember', key, ttl, loader, options);
    return remember(this.#ops, key, ttl, loader, options);
  }

  /** `remember`, resolving `{ value, status: 'hit' | 'miss' | 'graced', ageMs, tier }`: how the value was found (see `RememberResult`). */
  rememberWithStatus<T>(
    key: string,
    ttl: Ttl | undefined,
    loader: () => T | Promise<T>,
    options?: RememberOptions,
  ): Promise<RememberResult<T>> {
    const ops = this.#ops;
    if (!operationChannel.hasSubscribers) return rememberWithStatus(ops, key, ttl, loader, options);
    return tracedKey(this.#ops, 'remember', key, rememberHit, () => rememberWithStatus(ops, key, ttl, loader, options));
  }

  /** `remember` with no expiry. */
  rememberForever<T>(key: string, loader: () => T | Promise<T>): Promise<T> {
    if (operationChannel.hasSubscribers)
      return tracedRemember(this.#ops, 'rememberForever', key, undefined, loader, undefined);
    return rememberFromStore(this.#ops, key, undefined, loader, undefined);
  }

  /**
   * A lock named `name` held for `ttl`; pass `owner` to act on a lock acquired elsewhere. Stored
   * under the store prefix in the reserved `__larder:lock:` namespace (namespace path + name), so
   * it never shares a key with a cached value.
   */
  lock(name: string, ttl: Ttl, owner?: string): Lock {
    assertKey(name);
    const context = this.#context;
    return new Lock(context.locks, `${context.basePrefix}${LOCK_KEY_PREFIX}${this.#ops.path}${name}`, ttl, owner);
  }

  /**
   * Runs `fn` while holding the lock `name`, and releases it afterwards (even if `fn` throws).
   * Without `wait` it tries once; rejects with `LockTimeoutError` when the lock is not acquired.
   */
  async withLock<T>(name: string, ttl: Ttl, fn: (lock: Lock) => T | Promise<T>, options?: WithLockOptions): Promise<T> {
    return withHeldLock(this.lock(name, ttl), options?.wait, fn);
  }

  /** A rate limiter on this cache's store, its counts under the reserved `__larder:rate:` namespace (see `RateLimiterOptions`). */
  rateLimiter(options: RateLimiterOptions): RateLimiter {
    return new RateLimiter(rateLimitHost(this.#ops), options);
  }

  /** A cache whose keys live under `<prefix><name>:`, sharing this cache's store, single-flight, events and stats. */
  namespace(name: string): Cache {
    assertNamespace(name);
    const segment = withSeparator(name);
    const ops = this.#ops;
    const path = new OperationPath(ops.context, `${ops.prefix}${segment}`, `${ops.path}${segment}`);
    return new Cache({ [NAMESPACE]: path } as unknown as CacheOptions);
  }

  /** Deletes every key under this cache's prefix and nothing else; refuses (ConfigError) when the prefix is empty. */
  clear(): Promise<void> {
    if (operationChannel.hasSubscribers)
      return traceOperation(this.#context, 'clear', 0, undefined, undefined, () => clearPrefix(this.#ops));
    return clearPrefix(this.#ops);
  }

  /** Lists this cache's keys (without its prefix); each step is bounded by the timeout. */
  keys(): AsyncIterable<string> {
    return listKeys(this.#ops);
  }

  /** Adds an event listener (shared with namespaces). */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#context.emitter.on(event, listener);
    return this;
  }

  /** Removes an event listener. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#context.emitter.off(event, listener);
    return this;
  }

  /** Counters since creation (shared with namespaces). */
  stats(): CacheStats {
    const context = this.#context;
    const stats = context.emitter.snapshot();
    const l1 = context.l1?.hits;
    if (l1 !== undefined) stats.tiers = { l1, l2: stats.hits - l1 };
    return stats;
  }

  /** The L1 in front of the store (entries, bytes, bounds, invalidation mode and state), or `undefined` without one. */
  async describeL1(): Promise<L1Description | undefined> {
    await this.#context.ready.catch(() => undefined);
    return this.#context.l1?.describe();
  }

  /** Stops the L1 (empties it and closes its invalidation connections), leaving the store open; `close()` does it too. */
  async closeL1(): Promise<void> {
    await this.#context.ready.catch(() => undefined);
    await this.#context.l1?.close();
  }

  /** The store's topology and health as data (`CacheStore.describe()`); `mode: 'unknown'` when the driver gives none; with an L1, `l1` (see `describeL1`). */
  describe(): Promise<StoreDescription> {
    return describeCache(this.#context);
  }

  /** Closes the store (once; namespaces share it). */
  close(): Promise<void> {
    return closeCache(this.#context);
  }

  get #context(): CacheContext {
    return this.#ops.context;
  }
}
