import { BackendError, LarderError, ValueTooLargeError } from '../../contract/errors';
import type { CacheStore, Payload, TtlMs } from '../../contract/store';
import type { L1Entry } from '../../l1/entries';
import type { L1Token } from '../../l1/tier';
import { withTimeout } from '../../util/timeout';
import { type CacheTier, markTier } from '../../util/tracing';
import { copyOut } from '../../values/clone';
import { payloadBytes } from '../../values/codec';
import { freshValue, isLivePayload, storedEntry } from '../../values/entry';
import { FullKeyMemo, toFullKey } from '../../values/key-policy';
import { parseTtl, type Ttl } from '../../values/ttl';
import { isInputError, rawValueSize } from '../../values/value-policy';
import type { CacheContext } from '../context';
import type { CacheEventName } from '../events';

/** What `settle` resolves when a store call failed and the `'miss'` policy let it go. */
export const FAILED: unique symbol = Symbol('larder.failed');

// One settled promise for every synchronous write: a resolved promise cannot change, so sharing it is safe.
const RESOLVED: Promise<void> = Promise.resolve();

/** True when the store has the optional method `name` (and types it as present, also inside closures). */
export function offers<K extends keyof CacheStore>(
  store: CacheStore,
  name: K,
): store is CacheStore & Required<Pick<CacheStore, K>> {
  return typeof store[name] === 'function';
}

/** Returns `error` if it is a LarderError, else a `BackendError` wrapping it. */
export function asLarderError(error: unknown, driver: string, operation: string): LarderError {
  if (error instanceof LarderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${driver} ${operation} failed: ${message}`, driver, { cause: error });
}

/**
 * The one way from a `Cache` (or one of its namespaces) to its store. Every facade operation,
 * `remember`, batches and locks build on it: full keys (prefix, key policy), the timeout of
 * every store call, the failure policy and error wrapping, events and stats, encode, decode and
 * the grace unwrap of reads (via the entry model, `entry.ts`).
 *
 * Hook point for what comes next (DESIGN.md "Two tiers", "Observability"): it plugs in here and
 * leaves `cache.ts` as it is.
 * - L1 tier: every stored entry a read returns is decoded by `decode` (`get`, `getMany`, `pull`,
 *   `remember`), every write is counted by `wrote`/`wroteAll` once the store has answered, every
 *   removal by `deleted`/`deletedAll`. Read-through goes in front of the store read that feeds
 *   `decode` (keeping the decoded entry, graced or not, so the entry model still applies);
 *   write-after-store beside `wrote`; invalidation beside `deleted` (and `clear`).
 * - Tracing (`larder.operation`, `traceOperation` in tracing.ts): every facade method is one
 *   call into this path (`get`, `write`) or into an operation module that takes it (`getMany`,
 *   `remember`, `addKey`, `clearPrefix`...), so an operation is traced by wrapping that call when
 *   `operationChannel.hasSubscribers` (nothing is allocated otherwise). Its outcome — hit or
 *   miss, a graced value (`rememberFromStore`), writes, deletes, errors — is where `counted`,
 *   `wrote`, `deleted` and `report` are called: the only places that touch events and stats.
 */
export class OperationPath {
  /** Full prefix: store prefix + namespace path. */
  readonly prefix: string;
  /** Namespace path relative to the store prefix (event keys, `keys()`). */
  readonly path: string;
  #keys: FullKeyMemo | undefined;

  constructor(
    readonly context: CacheContext,
    prefix: string,
    path: string,
  ) {
    this.prefix = prefix;
    this.path = path;
  }

  /** The validated full key (prefix + namespace + key); memoized for in-process stores. */
  full(key: string): string {
    const context = this.context;
    if (!context.memoKeys) return toFullKey(this.prefix, key, context.maxKeyBytes, context.driver);
    this.#keys ??= new FullKeyMemo(this.prefix);
    return this.#keys.of(key, context.maxKeyBytes, context.driver);
  }

  /** `ttl` in ms, else the default TTL. */
  ttlMs(ttl: Ttl | undefined): TtlMs {
    return ttl === undefined ? this.context.defaultTtlMs : parseTtl(ttl);
  }

  /** Bounds a store call by the timeout (none for in-process stores). */
  bound<T>(call: Promise<T>, operation: string): Promise<T> {
    const context = this.context;
    return context.timeoutMs === 0 ? call : withTimeout(call, context.timeoutMs, operation, context.driver);
  }

  /**
   * Starts a store call and awaits it under the timeout; on failure (a rejection, or a throw
   * while starting) applies the error policy: rejects, or resolves `FAILED` under `'miss'`.
   */
  async settle<T>(operation: string, key: string | undefined, start: () => Promise<T>): Promise<T | typeof FAILED> {
    try {
      return await this.bound(start(), operation);
    } catch (error) {
      return this.failed(operation, key, error, FAILED);
    }
  }

  /** Applies the error policy: input errors and `'throw'` reject; `'miss'` resolves `fallback`. Reports either way. */
  failed<F>(operation: string, key: string | undefined, error: unknown, fallback: F): F {
    const wrapped = this.report(operation, key, error);
    if (this.context.onError === 'throw' || isInputError(wrapped)) throw wrapped;
    return fallback;
  }

  /** `failed` for the synchronous fast paths: the policy's answer as a promise. */
  syncFailed<F>(operation: string, key: string, error: unknown, fallback: F): Promise<F> {
    try {
      return Promise.resolve(this.failed(operation, key, error, fallback));
    } catch (rejected) {
      return Promise.reject(rejected);
    }
  }

  /** Counts and emits an error; returns it as a LarderError (as given when `wrap` is false: a loader's own error). */
  report(operation: string, key: string | undefined, error: unknown, wrap = true): LarderError {
    const context = this.context;
    const wrapped = wrap ? asLarderError(error, context.driver, operation) : (error as LarderError);
    context.emitter.counters.errors++;
    if (this.#listening('error')) {
      context.emitter.emit('error', {
        operation,
        key: key === undefined ? undefined : this.path + key,
        error: wrapped,
      });
    }
    return wrapped;
  }

  /** Encodes a value (or checks a raw one) as its stored entry (see `storedEntry`) and checks its size; throws input errors. */
  encode(key: string, value: unknown): Payload {
    const context = this.context;
    const max = context.maxValueBytes;
    const entry = storedEntry(value);
    if (context.raw) {
      if (context.storeChecksValues) return entry as Payload;
      const size = rawValueSize(entry, key, max);
      if (size > max) throw new ValueTooLargeError(key, size, max, context.driver);
      return entry as Payload;
    }
    const payload = context.codec.encode(entry, key);
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no byte count.
    if (payload.length * 3 > max || typeof payload !== 'string') {
      const size = payloadBytes(payload);
      if (size > max) throw new ValueTooLargeError(key, size, max, context.driver);
    }
    return payload;
  }

  /** Decodes a payload into its stored entry (a graced entry stays wrapped; see `entry.ts`). */
  decode(payload: Payload, key: string): unknown {
    const context = this.context;
    return context.raw ? payload : context.codec.decode(payload, key);
  }

  /** What a read returns for a payload: decoded, grace unwrapped (`undefined` for a miss). */
  value(payload: Payload | undefined, key: string): unknown {
    return payload === undefined ? undefined : freshValue(this.decode(payload, key));
  }

  /** For `has`: whether a read of this payload would find a value (see `isLivePayload`). */
  isLive(payload: Payload, key: string): boolean {
    const context = this.context;
    return isLivePayload(payload, context.raw ? undefined : context.codec, key);
  }

  /** `value`, counted and emitted as a hit or a miss. */
  read(payload: Payload | undefined, key: string): unknown {
    const value = this.value(payload, key);
    this.counted(key, value !== undefined);
    return value;
  }

  /** The facade's `get`: the in-process synchronous path when the store has one (no await, one settled promise); an L1 hit answers without a store call. */
  get(key: string): Promise<unknown> {
    const context = this.context;
    const getSync = context.getSync;
    if (getSync === undefined) {
      if (context.l1 === undefined) return this.#getAsync(key);
      try {
        const value = this.fromL1(this.full(key), key);
        return value === undefined ? this.#getAsync(key) : Promise.resolve(value);
      } catch (error) {
        return this.syncFailed('get', key, error, undefined);
      }
    }
    try {
      return Promise.resolve(this.read(getSync(this.full(key)), key));
    } catch (error) {
      return this.syncFailed('get', key, error, undefined);
    }
  }

  async #getAsync(key: string): Promise<unknown> {
    const context = this.context;
    const store = context.store ?? (await context.ready);
    const full = this.full(key);
    const token = context.l1?.begin(full);
    let payload: Payload | undefined;
    try {
      payload = await this.bound(store.get(full), 'get');
    } catch (error) {
      context.l1?.fill(token, undefined, undefined);
      return this.failed('get', key, error, undefined);
    }
    if (token === undefined) return this.read(payload, key);
    const value = freshValue(this.readThrough(token, payload, key));
    this.counted(key, value !== undefined, 'l2');
    return value;
  }

  /** A fresh value of `full` from the L1 (counted as an `l1` hit), else `undefined` (nothing counted). */
  fromL1(full: string, key: string): unknown {
    const l1 = this.context.l1;
    const entry = l1?.get(full);
    if (entry === undefined) return undefined;
    const value = freshValue(this.decodeL1(entry, full, key));
    if (value === undefined) return undefined;
    (l1 as NonNullable<typeof l1>).hit();
    this.counted(key, true, 'l1');
    markTier('l1');
    return value;
  }

  /** The stored entry an L1 entry holds: its primitive, or its payload decoded (a fresh copy for every caller). */
  decodeL1(entry: L1Entry, full: string, key: string): unknown {
    if (entry.payload === undefined) return copyOut(entry.value, entry.plan);
    const decoded = this.decode(entry.payload, key);
    this.context.l1?.promote(full, entry, decoded);
    return decoded;
  }

  /** Decodes what the store answered to a read registered with `L1Tier.begin`, and offers it to the L1 (kept only if the token survived). */
  readThrough(token: L1Token | undefined, payload: Payload | undefined, key: string): unknown {
    let decoded: unknown;
    try {
      decoded = payload === undefined ? undefined : this.decode(payload, key);
    } finally {
      this.context.l1?.fill(token, decoded === undefined ? undefined : payload, decoded);
    }
    return decoded;
  }

  /** After a write or delete of `fulls` reached the store (or failed: it may have landed): drop them from the L1 and tell other instances. */
  changed(...fulls: string[]): void {
    this.context.l1?.changed(fulls);
  }

  /** The facade's `set` (`ttl`, else the default TTL) and `forever` (no expiry); synchronous for in-process stores that can. */
  write(key: string, value: unknown, ttl: Ttl | undefined, operation: 'set' | 'forever'): Promise<void> {
    const setSync = this.context.setSync;
    if (setSync === undefined) return this.#writeAsync(key, value, ttl, operation);
    let full: string;
    let ttlMs: TtlMs;
    let payload: Payload;
    try {
      full = this.full(key);
      ttlMs = operation === 'forever' ? undefined : this.ttlMs(ttl);
      payload = this.encode(key, value);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      setSync(full, payload, ttlMs);
    } catch (error) {
      return this.syncFailed(operation, key, error, undefined);
    }
    this.wrote(key);
    return RESOLVED;
  }

  async #writeAsync(key: string, value: unknown, ttl: Ttl | undefined, operation: 'set' | 'forever'): Promise<void> {
    const context = this.context;
    const store = context.store ?? (await context.ready);
    const full = this.full(key);
    const ttlMs = operation === 'forever' ? undefined : this.ttlMs(ttl);
    const payload = this.encode(key, value);
    try {
      await this.bound(store.set(full, payload, ttlMs), 'set');
    } catch (error) {
      this.changed(full);
      return this.failed(operation, key, error, undefined);
    }
    this.changed(full);
    this.wrote(key);
  }

  /** Counts and emits a hit or a miss; with an L1, a hit's event names its `tier`. */
  counted(key: string, hit: boolean, tier: CacheTier = 'l2'): void {
    const context = this.context;
    const counters = context.emitter.counters;
    if (hit) counters.hits++;
    else counters.misses++;
    const event = hit ? 'hit' : 'miss';
    if (!this.#listening(event)) return;
    context.emitter.emit(
      event,
      hit && context.l1 !== undefined ? { key: this.path + key, tier } : { key: this.path + key },
    );
  }

  /** Counts and emits a write. */
  wrote(key: string): void {
    const context = this.context;
    context.emitter.counters.writes++;
    if (this.#listening('write')) context.emitter.emit('write', { key: this.path + key });
  }

  /** Counts and emits a write of each key of a batch. */
  wroteAll(keys: readonly string[]): void {
    const context = this.context;
    context.emitter.counters.writes += keys.length;
    if (!this.#listening('write')) return;
    for (const key of keys) context.emitter.emit('write', { key: this.path + key });
  }

  /** Counts `removed` deletes and emits `delete` for the key (also when nothing was there: `deleted: false`). */
  deleted(key: string, deleted: boolean | undefined, removed: number): void {
    const context = this.context;
    context.emitter.counters.deletes += removed;
    if (this.#listening('delete')) context.emitter.emit('delete', { key: this.path + key, deleted });
  }

  /**
   * Counts the `count` keys a batch removed and emits `delete` for each full key of `fulls`,
   * with `deleted` from `each` when the store said per key, else only when none or all existed.
   */
  deletedAll(fulls: readonly string[], count: number, each: readonly boolean[] | undefined): void {
    const context = this.context;
    context.emitter.counters.deletes += count;
    if (!this.#listening('delete')) return;
    const all = count === fulls.length ? true : count === 0 ? false : undefined;
    for (let i = 0; i < fulls.length; i++) {
      const key = (fulls[i] as string).slice(this.prefix.length);
      context.emitter.emit('delete', { key: this.path + key, deleted: each ? each[i] : all });
    }
  }

  /** The one check before building an event payload: nothing is allocated when nobody listens. */
  #listening(event: CacheEventName): boolean {
    const emitter = this.context.emitter;
    return emitter.any && emitter.listening(event);
  }
}
