import {
  asLarderError,
  fresh,
  GRACE,
  type GraceEnvelope,
  install,
  isEnvelope,
  isLive,
  type Shared,
  storeLockBackend,
} from './cache-state';
import { type Codec, jsonCodec, payloadBytes } from './codec';
import type { CacheStore, Payload, StoreCapabilities, TtlMs } from './contract';
import {
  ConfigError,
  describe,
  InvalidArgumentError,
  type LarderError,
  LockTimeoutError,
  UnsupportedOperationError,
  ValueTooLargeError,
} from './errors';
import { CacheEmitter, type CacheEventName, type CacheListener, type CacheStats } from './events';
import {
  assertKey,
  assertNamespace,
  checkKeyBytes,
  FullKeyMemo,
  LOCK_KEY_PREFIX,
  REMEMBER_LOCK_KEY_PREFIX,
  RESERVED_KEY_PREFIX,
  toFullKey,
  withSeparator,
} from './key-policy';
import { Lock, type LockBackend } from './lock';
import {
  decodeForRemember,
  fill,
  keepGraceCopy,
  load,
  type Plan,
  parseLockOptions,
  type RememberHost,
} from './remember';
import { SingleFlight } from './single-flight';
import { withTimeout } from './timeout';
import { parseTtl, type Ttl } from './ttl';
import { isInputError, rawValueSize } from './value-policy';

export type { SyncStoreMethods } from './cache-state';

/** Options of a `Cache`. */
export interface CacheOptions {
  /** The store, or a promise of it (awaited once; a rejection surfaces on every operation). */
  store: CacheStore | Promise<CacheStore>;
  /** Store name, for messages and integrations. @default 'default' */
  name?: string;
  /** Prefix of every key this cache writes; `clear()` removes only keys under it. @default '' */
  prefix?: string;
  /** TTL of writes that give none; `undefined` stores forever. */
  ttl?: Ttl;
  /** Value codec; ignored by stores with `capabilities.rawValues`. @default jsonCodec */
  codec?: Codec;
  /** `'throw'` rejects with `BackendError`; `'miss'` turns failed reads into misses and drops failed writes. Both emit `error`. @default 'throw' */
  onError?: 'throw' | 'miss';
  /** Upper bound of every backend call (skipped for in-process stores). @default '5s' */
  timeout?: Ttl;
}

/** Options of `remember`. */
export interface RememberOptions {
  /** Keep the value this long past its TTL; within it, serve it stale while one background refresh runs, and serve it when the loader fails. */
  grace?: Ttl;
  /** Cross-process single-flight: on a miss only the holder of the key's lock (reserved `__larder:remember:` namespace) runs the loader; others wait for its value (`ttl` of the lock, `wait` before running the loader themselves; both @default '10s'). */
  lock?: boolean | { ttl?: Ttl; wait?: Ttl };
}

/** Options of `withLock`. */
export interface WithLockOptions {
  /** Wait up to this long for the lock (retrying with back-off); without it, one attempt. */
  wait?: Ttl;
}

const DEFAULT_TIMEOUT_MS = 5000;
const SHARED = Symbol('larder.cache.shared');

interface NamespaceInit {
  shared: Shared;
  prefix: string;
  path: string;
}

const noop = () => {};
// One settled promise for every synchronous write: a resolved promise cannot change, so sharing it is safe.
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The facade every app uses: serialization, key prefix and namespaces, key policy, default
 * TTL, events and stats, single-flight `remember` with grace and cross-process locks, and the
 * error policy. Stores (drivers) stay raw; see `CacheStore`.
 */
export class Cache {
  readonly #s: Shared;
  /** Full prefix: store prefix + namespace path. */
  readonly #prefix: string;
  /** Namespace path relative to the store prefix (event keys, `keys()`). */
  readonly #path: string;
  /** What `remember`'s miss and refresh paths (remember.ts) use of this cache. */
  readonly #host: RememberHost;
  /** Memo of full keys (in-process stores only; made on first use). */
  #keys: FullKeyMemo | undefined;

  constructor(options: CacheOptions) {
    const init = (options as CacheOptions & { [SHARED]?: NamespaceInit })[SHARED];
    this.#host = {
      shared: undefined as unknown as Shared,
      report: (operation, key, error, wrap) => this.#report(operation, key, error, wrap),
      encode: (key, value) => this.#encode(key, value),
      wrote: (key) => this.#wrote(key),
    };
    if (init) {
      this.#s = init.shared;
      (this.#host as { shared: Shared }).shared = init.shared;
      this.#prefix = init.prefix;
      this.#path = init.path;
      return;
    }
    if (options === null || typeof options !== 'object' || options.store == null) {
      throw new ConfigError('new Cache(options) needs a `store` (a CacheStore or a promise of one)', 'store');
    }
    const given = options.prefix ?? '';
    if (typeof given !== 'string') throw new ConfigError(`prefix must be a string, got ${describe(given)}`, 'prefix');
    // 'app' would clear 'apple:' too: a non-empty prefix always ends with the ':' separator.
    const prefix = withSeparator(given);
    const onError = options.onError ?? 'throw';
    if (onError !== 'throw' && onError !== 'miss') {
      throw new ConfigError(`onError must be 'throw' or 'miss', got ${describe(onError)}`, 'onError');
    }
    const store = options.store;
    const pending = typeof (store as PromiseLike<CacheStore>).then === 'function';
    const shared: Shared = {
      name: options.name ?? 'default',
      basePrefix: prefix,
      codec: options.codec ?? jsonCodec,
      onError,
      defaultTtlMs: options.ttl === undefined ? undefined : parseTtl(options.ttl),
      configuredTimeoutMs: options.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseTtl(options.timeout),
      emitter: new CacheEmitter(),
      flights: new SingleFlight(),
      ready: undefined as unknown as Promise<CacheStore>,
      store: undefined,
      driver: 'unknown',
      raw: false,
      timeoutMs: 0,
      maxKeyBytes: Number.POSITIVE_INFINITY,
      maxValueBytes: Number.POSITIVE_INFINITY,
      locks: undefined as unknown as LockBackend,
      closed: undefined,
      getSync: undefined,
      setSync: undefined,
      memoKeys: false,
      storeChecksValues: false,
      graceCopies: new Map(),
    };
    shared.locks = storeLockBackend(shared);
    this.#s = shared;
    (this.#host as { shared: Shared }).shared = shared;
    this.#prefix = prefix;
    this.#path = '';
    if (pending) {
      const ready = Promise.resolve(store).then((resolved) => {
        install(shared, resolved);
        return resolved;
      });
      ready.catch(noop); // surfaced by every operation instead
      (shared as { ready: Promise<CacheStore> }).ready = ready;
    } else {
      install(shared, store as CacheStore);
      (shared as { ready: Promise<CacheStore> }).ready = Promise.resolve(store as CacheStore);
    }
  }

  /** Store name given in the options (`'default'` when none). */
  get name(): string {
    return this.#s.name;
  }

  /** The error policy (`onError` option): whether failed backend calls reject or read as misses. */
  get onError(): 'throw' | 'miss' {
    return this.#s.onError;
  }

  /** Full key prefix of this cache (store prefix + namespace path). */
  get prefix(): string {
    return this.#prefix;
  }

  /** Resolves to the store (rejects if the store promise rejected). */
  getStore(): Promise<CacheStore> {
    return this.#s.ready;
  }

  /** Resolves to the store's capabilities. */
  async capabilities(): Promise<StoreCapabilities> {
    return (await this.#s.ready).capabilities;
  }

  /** Returns the value, or `undefined` when absent, expired (or past a `remember` TTL, grace included). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const sync = this.#s.getSync;
    if (sync === undefined) return this.#get(key);
    // In-process fast path: no await inside, one settled promise out.
    try {
      const payload = sync(this.#full(key));
      return Promise.resolve(this.#afterGet(payload, key) as T | undefined);
    } catch (error) {
      return this.#syncFailed('get', key, error, undefined);
    }
  }

  async #get<T>(key: string): Promise<T | undefined> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    let payload: Payload | undefined;
    try {
      payload = await (s.timeoutMs === 0
        ? store.get(full)
        : withTimeout(store.get(full), s.timeoutMs, 'get', s.driver));
    } catch (error) {
      return this.#failed('get', key, error, undefined);
    }
    return this.#afterGet(payload, key) as T | undefined;
  }

  /** Decodes a read payload, unwraps a grace envelope, counts and emits hit or miss. */
  #afterGet(payload: Payload | undefined, key: string): unknown {
    const s = this.#s;
    if (payload !== undefined) {
      let value = s.raw ? (payload as unknown) : s.codec.decode(payload, key);
      if (typeof value === 'object' && value !== null && GRACE in value) value = fresh(value as GraceEnvelope);
      if (value !== undefined) {
        s.emitter.counters.hits++;
        if (s.emitter.any && s.emitter.listening('hit')) s.emitter.emit('hit', { key: this.#path + key });
        return value;
      }
    }
    s.emitter.counters.misses++;
    if (s.emitter.any && s.emitter.listening('miss')) s.emitter.emit('miss', { key: this.#path + key });
    return undefined;
  }

  /** `#failed` for the synchronous fast paths: the policy's answer as a promise. */
  #syncFailed<F>(operation: string, key: string, error: unknown, fallback: F): Promise<F> {
    try {
      return Promise.resolve(this.#failed(operation, key, error, fallback));
    } catch (rejected) {
      return Promise.reject(rejected);
    }
  }

  /** Returns values aligned with `keys` (`undefined` for misses); one batched store call when the driver has one. */
  async getMany<T = unknown>(keys: Iterable<string>): Promise<(T | undefined)[]> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
    const fulls = list.map((key) => this.#full(key));
    if (fulls.length === 0) return [];
    const distinct = new Set(fulls);
    const unique = distinct.size === fulls.length ? fulls : [...distinct];
    let payloads: (Payload | undefined)[];
    try {
      const call = store.getMany ? store.getMany(unique) : Promise.all(unique.map((full) => store.get(full)));
      payloads = await this.#bound(call, 'getMany');
    } catch (error) {
      return this.#failed(
        'getMany',
        undefined,
        error,
        list.map(() => undefined),
      );
    }
    const values: unknown[] = [];
    for (let i = 0; i < unique.length; i++) {
      const payload = payloads[i];
      if (payload === undefined) {
        values.push(undefined);
        continue;
      }
      const key = (unique[i] as string).slice(this.#prefix.length);
      let value = s.raw ? (payload as unknown) : s.codec.decode(payload, key);
      if (isEnvelope(value)) value = fresh(value);
      values.push(value);
    }
    let aligned = values as (T | undefined)[];
    if (unique !== fulls) {
      const byKey = new Map<string, unknown>();
      for (let i = 0; i < unique.length; i++) byKey.set(unique[i] as string, values[i]);
      aligned = fulls.map((full) => byKey.get(full) as T | undefined);
    }
    const emitter = s.emitter;
    for (let i = 0; i < aligned.length; i++) {
      const hit = aligned[i] !== undefined;
      if (hit) emitter.counters.hits++;
      else emitter.counters.misses++;
      const event: CacheEventName = hit ? 'hit' : 'miss';
      if (emitter.any && emitter.listening(event)) emitter.emit(event, { key: this.#path + list[i] });
    }
    return aligned;
  }

  /** Stores the value for `ttl` (default TTL when omitted; forever when there is none). */
  set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    const sync = this.#s.setSync;
    if (sync === undefined) return this.#set(key, value, ttl);
    const s = this.#s;
    let full: string;
    let ttlMs: TtlMs;
    let payload: Payload;
    try {
      full = this.#full(key);
      ttlMs = ttl === undefined ? s.defaultTtlMs : parseTtl(ttl);
      payload = this.#encode(key, value);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      sync(full, payload, ttlMs);
    } catch (error) {
      return this.#syncFailed('set', key, error, undefined);
    }
    this.#wrote(key);
    return RESOLVED;
  }

  async #set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    const ttlMs = ttl === undefined ? s.defaultTtlMs : parseTtl(ttl);
    const payload = this.#encode(key, value);
    try {
      await (s.timeoutMs === 0
        ? store.set(full, payload, ttlMs)
        : withTimeout(store.set(full, payload, ttlMs), s.timeoutMs, 'set', s.driver));
    } catch (error) {
      return this.#failed('set', key, error, undefined);
    }
    this.#wrote(key);
  }

  /** Stores every entry (a record or an iterable of `[key, value]`; the last duplicate wins) with one TTL; every value is validated before anything is sent. */
  async setMany(entries: Record<string, unknown> | Iterable<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const pairs =
      entries !== null && typeof entries === 'object' && Symbol.iterator in entries
        ? [...(entries as Iterable<readonly [string, unknown]>)]
        : Object.entries(entries as Record<string, unknown>);
    const ttlMs = ttl === undefined ? s.defaultTtlMs : parseTtl(ttl);
    const byKey = new Map<string, readonly [string, Payload]>();
    const userKeys = new Map<string, string>();
    for (const pair of pairs) {
      const [key, value] = pair;
      const full = this.#full(key);
      byKey.set(full, [full, this.#encode(key, value)]);
      userKeys.set(full, key);
    }
    if (byKey.size === 0) return;
    const list = [...byKey.values()];
    try {
      const call = store.setMany
        ? store.setMany(list, ttlMs)
        : Promise.all(list.map(([full, payload]) => store.set(full, payload, ttlMs))).then(noop);
      await this.#bound(call, 'setMany');
    } catch (error) {
      return this.#failed('setMany', undefined, error, undefined);
    }
    s.emitter.counters.writes += list.length;
    if (s.emitter.any && s.emitter.listening('write')) {
      for (const key of userKeys.values()) s.emitter.emit('write', { key: this.#path + key });
    }
  }

  /** Stores the value only if the key is absent (atomic on the backend); resolves true if stored. */
  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    const ttlMs = ttl === undefined ? s.defaultTtlMs : parseTtl(ttl);
    const payload = this.#encode(key, value);
    if (!store.add || !store.capabilities.atomicAdd) {
      throw new UnsupportedOperationError('add', s.driver, 'it has no atomic set-if-absent');
    }
    let added: boolean;
    try {
      added = await this.#bound(store.add(full, payload, ttlMs), 'add');
    } catch (error) {
      return this.#failed('add', key, error, false);
    }
    if (added) this.#wrote(key);
    return added;
  }

  /** Stores the value with no expiry (ignores the default TTL). */
  async forever(key: string, value: unknown): Promise<void> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    const payload = this.#encode(key, value);
    try {
      await this.#bound(store.set(full, payload, undefined), 'set');
    } catch (error) {
      return this.#failed('forever', key, error, undefined);
    }
    this.#wrote(key);
  }

  /**
   * True if `get` would find a value. Reads the payload (one store `get`, no hit/miss counted):
   * a `remember` grace envelope past its logical TTL is still stored but is a miss for `get`,
   * so it is `false` here too. Plain values are not decoded.
   */
  async has(key: string): Promise<boolean> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    let payload: Payload | undefined;
    try {
      payload = await this.#bound(store.get(full), 'has');
    } catch (error) {
      return this.#failed('has', key, error, false);
    }
    return payload !== undefined && isLive(s, payload, key);
  }

  /** Deletes the key; resolves true if it existed. */
  async delete(key: string): Promise<boolean> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    let deleted: boolean;
    try {
      deleted = await this.#bound(store.delete(full), 'delete');
    } catch (error) {
      return this.#failed('delete', key, error, false);
    }
    this.#deleted(key, deleted, deleted ? 1 : 0);
    return deleted;
  }

  /**
   * Deletes the keys (duplicates once); resolves how many existed. One batched call when the
   * driver has one. `stats().deletes` grows by that count; a `delete` event is emitted per
   * distinct key, with `deleted` when known (see `CacheDeleteEvent`).
   */
  async deleteMany(keys: Iterable<string>): Promise<number> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const list = Array.isArray(keys) ? (keys as string[]) : [...keys];
    const unique = [...new Set(list.map((key) => this.#full(key)))];
    if (unique.length === 0) return 0;
    let count: number;
    let each: boolean[] | undefined;
    try {
      const call = store.deleteMany
        ? store.deleteMany(unique)
        : Promise.all(unique.map((full) => store.delete(full))).then((done) => {
            each = done;
            return done.filter(Boolean).length;
          });
      count = await this.#bound(call, 'deleteMany');
    } catch (error) {
      return this.#failed('deleteMany', undefined, error, 0);
    }
    s.emitter.counters.deletes += count;
    if (s.emitter.any && s.emitter.listening('delete')) {
      // A batch delete reports a total: per key it is known only when none or all existed.
      const all = count === unique.length ? true : count === 0 ? false : undefined;
      for (let i = 0; i < unique.length; i++) {
        const deleted = each ? (each[i] as boolean) : all;
        s.emitter.emit('delete', { key: this.#path + (unique[i] as string).slice(this.#prefix.length), deleted });
      }
    }
    return count;
  }

  /** Returns the value and deletes it (atomic when the driver has `pull`, else get then delete). */
  async pull<T = unknown>(key: string): Promise<T | undefined> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    if (!store.pull) {
      const value = await this.get<T>(key);
      if (value !== undefined) await this.delete(key);
      return value;
    }
    let payload: Payload | undefined;
    try {
      payload = await this.#bound(store.pull(full), 'pull');
    } catch (error) {
      return this.#failed('pull', key, error, undefined);
    }
    let value = payload === undefined ? undefined : s.raw ? (payload as unknown) : s.codec.decode(payload, key);
    if (isEnvelope(value)) value = fresh(value);
    this.#counted(key, value !== undefined);
    if (payload !== undefined) this.#deleted(key, true, 1);
    return value as T | undefined;
  }

  /**
   * Atomically adds `by` (a safe integer, default 1) and resolves the new value; a missing key
   * starts at 0 and gets `ttl`. Rejects on backend errors whatever `onError` says: there is
   * no honest counter value to invent.
   */
  async increment(key: string, by = 1, ttl?: Ttl): Promise<number> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    if (!Number.isSafeInteger(by)) {
      throw new InvalidArgumentError(`increment needs a safe integer step, got ${describe(by)}`, 'by');
    }
    const ttlMs = ttl === undefined ? s.defaultTtlMs : parseTtl(ttl);
    if (!store.increment) throw new UnsupportedOperationError('increment', s.driver);
    let value: number;
    try {
      value = await this.#bound(store.increment(full, by, ttlMs), 'increment');
    } catch (error) {
      this.#report('increment', key, error);
      throw asLarderError(error, s.driver, 'increment');
    }
    this.#wrote(key);
    return value;
  }

  /** Atomically subtracts `by` (default 1); see `increment`. */
  decrement(key: string, by = 1, ttl?: Ttl): Promise<number> {
    if (!Number.isSafeInteger(by)) {
      return Promise.reject(new InvalidArgumentError(`decrement needs a safe integer step, got ${describe(by)}`, 'by'));
    }
    return this.increment(key, -by, ttl);
  }

  /** Sets a new expiry (`ttl`, else the default TTL, else none) without rewriting the value; resolves false if the key is absent. */
  async touch(key: string, ttl?: Ttl): Promise<boolean> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    const ttlMs = ttl === undefined ? s.defaultTtlMs : parseTtl(ttl);
    if (!store.touch) throw new UnsupportedOperationError('touch', s.driver);
    try {
      return await this.#bound(store.touch(full, ttlMs), 'touch');
    } catch (error) {
      return this.#failed('touch', key, error, false);
    }
  }

  /**
   * Returns the cached value, or runs `loader` once per key in this process (concurrent
   * callers share the run), caches its result for `ttl` and returns it. A loader result of
   * `undefined` is returned but not cached. When the backend fails, the loader's value is
   * returned anyway (an `error` event is emitted), whatever `onError` says. See
   * `RememberOptions` for `grace` and `lock`.
   */
  remember<T>(key: string, ttl: Ttl | undefined, loader: () => T | Promise<T>, options?: RememberOptions): Promise<T> {
    let ttlMs: TtlMs;
    try {
      ttlMs = ttl === undefined ? this.#s.defaultTtlMs : parseTtl(ttl);
    } catch (error) {
      return Promise.reject(error);
    }
    const sync = this.#s.getSync;
    if (sync !== undefined && options === undefined) {
      // In-process fast path for a fresh hit; anything else (miss, stale, error) takes the full path.
      try {
        const payload = sync(this.#full(key));
        const value = payload === undefined ? undefined : decodeForRemember(this.#host, payload, key);
        if (value !== undefined && !isEnvelope(value)) {
          this.#counted(key, true);
          return Promise.resolve(value as T);
        }
      } catch {
        // The full path reads again and applies the error rules.
      }
    }
    return this.#remember(key, ttlMs, loader, options);
  }

  /** `remember` with no expiry. */
  rememberForever<T>(key: string, loader: () => T | Promise<T>): Promise<T> {
    return this.#remember(key, undefined, loader, undefined);
  }

  /**
   * A lock named `name` held for `ttl`; pass `owner` to act on a lock acquired elsewhere. Stored
   * under the store prefix in the reserved `__larder:lock:` namespace (namespace path + name), so
   * it never shares a key with a cached value.
   */
  lock(name: string, ttl: Ttl, owner?: string): Lock {
    assertKey(name);
    return new Lock(this.#lockBackend(), `${this.#s.basePrefix}${LOCK_KEY_PREFIX}${this.#path}${name}`, ttl, owner);
  }

  /**
   * Runs `fn` while holding the lock `name`, and releases it afterwards (even if `fn` throws).
   * Without `wait` it tries once; rejects with `LockTimeoutError` when the lock is not acquired.
   */
  async withLock<T>(name: string, ttl: Ttl, fn: (lock: Lock) => T | Promise<T>, options?: WithLockOptions): Promise<T> {
    const lock = this.lock(name, ttl);
    if (options?.wait !== undefined) await lock.block(options.wait);
    else if (!(await lock.acquire())) throw new LockTimeoutError(lock.key);
    try {
      return await fn(lock);
    } finally {
      // The lock expires by its TTL anyway; a failed release must not hide fn's result.
      await lock.release().catch(noop);
    }
  }

  /** A cache whose keys live under `<prefix><name>:`, sharing this cache's store, single-flight, events and stats. */
  namespace(name: string): Cache {
    assertNamespace(name);
    const segment = withSeparator(name);
    const init: NamespaceInit = {
      shared: this.#s,
      prefix: `${this.#prefix}${segment}`,
      path: `${this.#path}${segment}`,
    };
    return new Cache({ [SHARED]: init } as unknown as CacheOptions);
  }

  /** Deletes every key under this cache's prefix and nothing else; refuses (ConfigError) when the prefix is empty. */
  async clear(): Promise<void> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    if (this.#prefix === '') {
      throw new ConfigError(
        'Refusing to clear a cache with an empty prefix: it would delete every key on the backend. Set `prefix`.',
        'prefix',
      );
    }
    if (!store.clear || !store.capabilities.clear) throw new UnsupportedOperationError('clear', s.driver);
    try {
      await this.#bound(store.clear(this.#prefix), 'clear');
    } catch (error) {
      this.#failed('clear', undefined, error, undefined);
    }
  }

  /** Lists this cache's keys (without its prefix); each step is bounded by the timeout. */
  async *keys(): AsyncIterable<string> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    if (!store.keys || !store.capabilities.enumerate) throw new UnsupportedOperationError('keys', s.driver);
    const prefix = this.#prefix;
    // Locks live under the root prefix's reserved namespace (see `lock`): never listed.
    const reserved = this.#path === '' ? prefix + RESERVED_KEY_PREFIX : undefined;
    const iterator = store.keys(prefix)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let step: IteratorResult<string>;
        try {
          step = await this.#bound(iterator.next(), 'keys');
        } catch (error) {
          this.#failed('keys', undefined, error, undefined);
          return;
        }
        if (step.done) return;
        if (!step.value.startsWith(prefix)) continue;
        if (reserved !== undefined && step.value.startsWith(reserved)) continue;
        yield step.value.slice(prefix.length);
      }
    } finally {
      await iterator.return?.()?.catch?.(noop);
    }
  }

  /** Adds an event listener (shared with namespaces). */
  on<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#s.emitter.on(event, listener);
    return this;
  }

  /** Removes an event listener. */
  off<E extends CacheEventName>(event: E, listener: CacheListener<E>): this {
    this.#s.emitter.off(event, listener);
    return this;
  }

  /** Counters since creation (shared with namespaces). */
  stats(): CacheStats {
    return this.#s.emitter.snapshot();
  }

  /** Closes the store (once; namespaces share it). */
  close(): Promise<void> {
    const s = this.#s;
    s.closed ??= s.ready.then(
      (store) => store.close?.(),
      () => undefined,
    );
    return s.closed;
  }

  // ---- internals ----

  /** The validated full key (prefix + namespace + key); memoized for in-process stores. */
  #full(key: string): string {
    const s = this.#s;
    if (!s.memoKeys) return toFullKey(this.#prefix, key, s.maxKeyBytes, s.driver);
    this.#keys ??= new FullKeyMemo(this.#prefix);
    return this.#keys.of(key, s.maxKeyBytes, s.driver);
  }

  #bound<T>(promise: Promise<T>, operation: string): Promise<T> {
    const s = this.#s;
    return s.timeoutMs === 0 ? promise : withTimeout(promise, s.timeoutMs, operation, s.driver);
  }

  #encode(key: string, value: unknown): Payload {
    const s = this.#s;
    if (s.raw) {
      if (s.storeChecksValues) return value as Payload;
      const size = rawValueSize(value, key, s.maxValueBytes);
      if (size > s.maxValueBytes) throw new ValueTooLargeError(key, size, s.maxValueBytes, s.driver);
      return value as Payload;
    }
    const payload = s.codec.encode(value, key);
    this.#checkSize(key, payload);
    return payload;
  }

  #checkSize(key: string, payload: Payload): void {
    const max = this.#s.maxValueBytes;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no byte count.
    if (payload.length * 3 > max || typeof payload !== 'string') {
      const size = payloadBytes(payload);
      if (size > max) throw new ValueTooLargeError(key, size, max, this.#s.driver);
    }
  }

  #wrote(key: string): void {
    const emitter = this.#s.emitter;
    emitter.counters.writes++;
    if (emitter.any && emitter.listening('write')) emitter.emit('write', { key: this.#path + key });
  }

  /** Counts `removed` deletes and emits `delete` for the key (also when nothing was there: `deleted: false`). */
  #deleted(key: string, deleted: boolean, removed: number): void {
    const emitter = this.#s.emitter;
    emitter.counters.deletes += removed;
    if (emitter.any && emitter.listening('delete')) emitter.emit('delete', { key: this.#path + key, deleted });
  }

  #counted(key: string, hit: boolean): void {
    const emitter = this.#s.emitter;
    if (hit) emitter.counters.hits++;
    else emitter.counters.misses++;
    const event = hit ? 'hit' : 'miss';
    if (emitter.any && emitter.listening(event)) emitter.emit(event, { key: this.#path + key });
  }

  /** Counts and emits an error; returns it as a LarderError. */
  #report(operation: string, key: string | undefined, error: unknown, wrap = true): LarderError {
    const s = this.#s;
    const wrapped = wrap ? asLarderError(error, s.driver, operation) : (error as LarderError);
    s.emitter.counters.errors++;
    if (s.emitter.any && s.emitter.listening('error')) {
      s.emitter.emit('error', {
        operation,
        key: key === undefined ? undefined : this.#path + key,
        error: wrapped,
      });
    }
    return wrapped;
  }

  /** Applies the error policy: input errors and `'throw'` reject; `'miss'` resolves `fallback`. */
  #failed<F>(operation: string, key: string | undefined, error: unknown, fallback: F): F {
    const wrapped = this.#report(operation, key, error);
    if (this.#s.onError === 'throw' || isInputError(wrapped)) throw wrapped;
    return fallback;
  }

  #lockBackend(): LockBackend {
    const s = this.#s;
    return s.locks;
  }

  async #remember<T>(
    key: string,
    ttlMs: TtlMs,
    loader: () => T | Promise<T>,
    options: RememberOptions | undefined,
  ): Promise<T> {
    const s = this.#s;
    const store = s.store ?? (await s.ready);
    const full = this.#full(key);
    if (typeof loader !== 'function') {
      throw new InvalidArgumentError(`remember needs a loader function, got ${describe(loader)}`, 'loader');
    }
    let graceMs = 0;
    let lock: Plan<T>['lock'];
    if (options !== undefined) {
      graceMs = options.grace === undefined || ttlMs === undefined ? 0 : parseTtl(options.grace);
      if (options.lock) {
        if (!store.add || !store.capabilities.atomicAdd) {
          throw new UnsupportedOperationError('remember with lock', s.driver, 'locks need an atomic set-if-absent');
        }
        // In the reserved namespace: a user key can never be (or be taken for) remember's lock.
        const lockKey = `${s.basePrefix}${REMEMBER_LOCK_KEY_PREFIX}${this.#path}${key}`;
        checkKeyBytes(lockKey, key, s.maxKeyBytes, s.driver);
        lock = { ...parseLockOptions(options.lock), key: lockKey };
      }
    }
    // The hit path is inlined (no helper awaits, nothing allocated): it is the common case.
    let payload: Payload | undefined;
    try {
      payload = await (s.timeoutMs === 0
        ? store.get(full)
        : withTimeout(store.get(full), s.timeoutMs, 'get', s.driver));
    } catch (error) {
      this.#report('remember', key, error);
      // Backend down: serve the last graced value this process saw while within its grace...
      const copy = graceMs > 0 ? s.graceCopies.get(full) : undefined;
      if (copy !== undefined && copy.until > Date.now()) {
        this.#counted(key, true);
        return copy.envelope.v as T;
      }
      // ...else fall back to the loader (one run per key in this process).
      const plan: Plan<T> = { store, full, key, ttlMs, graceMs, loader, lock, stale: undefined, backendDown: true };
      return s.flights.run(full, () => load(this.#host, plan));
    }
    let stale: GraceEnvelope | undefined;
    if (payload !== undefined) {
      const value = decodeForRemember(this.#host, payload, key);
      if (value !== undefined) {
        if (!isEnvelope(value)) {
          this.#counted(key, true);
          return value as T;
        }
        if (graceMs > 0) keepGraceCopy(s, full, value, graceMs);
        if (value[GRACE] > Date.now()) {
          this.#counted(key, true);
          return value.v as T;
        }
        stale = value;
      }
    }
    const plan: Plan<T> = { store, full, key, ttlMs, graceMs, loader, lock, stale: undefined };
    if (stale !== undefined) {
      // Within grace: answer now with the stale value, refresh once in the background.
      this.#counted(key, true);
      if (!s.flights.has(full)) {
        plan.stale = stale;
        s.flights.run(full, () => fill(this.#host, plan)).catch((error) => this.#report('remember', key, error));
      }
      return stale.v as T;
    }
    this.#counted(key, false);
    return s.flights.run(full, () => fill(this.#host, plan));
  }
}
