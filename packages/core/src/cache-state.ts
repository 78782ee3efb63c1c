import { type Codec, jsonCodec } from './codec';
import type { CacheStore, Payload, TtlMs } from './contract';
import { BackendError, ConfigError, LarderError, UnsupportedOperationError } from './errors';
import type { CacheEmitter } from './events';
import { checkKeyBytes } from './key-policy';
import type { LockBackend } from './lock';
import type { SingleFlight } from './single-flight';
import { withTimeout } from './timeout';

// State and helpers the `Cache` facade shares with its namespaces and with `remember.ts`.

export const GRACE = '\u0000grace';

/**
 * Optional synchronous fast path of in-process stores (`capabilities.inProcess`): the same
 * contract as `get`/`set`, answered without a promise. When a store has them, the facade's
 * `get`, `set` and `remember` hits call them and return one settled promise, skipping an
 * await per call. Errors they throw go through the failure policy like rejections.
 */
export interface SyncStoreMethods {
  /** Synchronous `get`. */
  getSync?(key: string): Payload | undefined;
  /** Synchronous `set`. */
  setSync?(key: string, payload: Payload, ttlMs: TtlMs): void;
}

/** A value stored by `remember` with `grace`: the logical expiry travels with the value. */
export interface GraceEnvelope {
  /** Logical expiry, epoch ms. */
  '\u0000grace': number;
  /** The value. */
  v: unknown;
}

/** Everything a cache shares with its namespaces. */
export interface Shared {
  readonly name: string;
  readonly basePrefix: string;
  readonly codec: Codec;
  readonly onError: 'throw' | 'miss';
  readonly defaultTtlMs: TtlMs;
  readonly configuredTimeoutMs: number;
  readonly emitter: CacheEmitter;
  readonly flights: SingleFlight;
  readonly ready: Promise<CacheStore>;
  store: CacheStore | undefined;
  driver: string;
  raw: boolean;
  /** 0 = no timer (in-process store). */
  timeoutMs: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  locks: LockBackend;
  closed: Promise<void> | undefined;
  /** Bound `getSync`/`setSync` of an in-process store that has them. */
  getSync: ((key: string) => Payload | undefined) | undefined;
  setSync: ((key: string, payload: Payload, ttlMs: TtlMs) => void) | undefined;
  /** The raw-value store checks and sizes values itself (`checksRawValues`). */
  storeChecksValues: boolean;
  /** Memoize full keys (in-process stores, where building and hashing the key is a large part of a call). */
  memoKeys: boolean;
  /** Last graced value seen per full key (bounded), served by `remember` when the backend read fails. */
  readonly graceCopies: Map<string, { envelope: GraceEnvelope; until: number }>;
}

/** True for a `remember` grace envelope. */
export function isEnvelope(value: unknown): value is GraceEnvelope {
  return typeof value === 'object' && value !== null && GRACE in value;
}

/** The envelope's value while it is logically fresh, else `undefined`. */
export function fresh(envelope: GraceEnvelope): unknown {
  return envelope[GRACE] > Date.now() ? envelope.v : undefined;
}

/** How a grace envelope's JSON text starts with `jsonCodec` (`{"\u0000grace":`...). */
const ENVELOPE_JSON_START = `{${JSON.stringify(GRACE)}`;
const OPEN_BRACE = 0x7b;

/**
 * For `has`: true unless the payload is a grace envelope past its logical TTL (a miss for
 * `get`). Plain values are not decoded: with `jsonCodec` a string payload is recognised by
 * its first characters; bytes starting with '{' and other codecs' payloads are decoded. A
 * payload that does not decode is present (`get` reports the decoding error).
 */
export function isLive(shared: Shared, payload: Payload, key: string): boolean {
  let value: unknown;
  if (shared.raw) {
    value = payload;
  } else {
    if (shared.codec === jsonCodec) {
      if (typeof payload === 'string' ? !payload.startsWith(ENVELOPE_JSON_START) : payload[0] !== OPEN_BRACE) {
        return true;
      }
    }
    try {
      value = shared.codec.decode(payload, key);
    } catch {
      return true;
    }
  }
  return !isEnvelope(value) || value[GRACE] > Date.now();
}

/** Returns `error` if it is a LarderError, else a `BackendError` wrapping it. */
export function asLarderError(error: unknown, driver: string, operation: string): LarderError {
  if (error instanceof LarderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${driver} ${operation} failed: ${message}`, driver, { cause: error });
}

/** Validates a store and derives the hot-path settings from its capabilities. */
export function install(shared: Shared, store: CacheStore): void {
  if (
    store === null ||
    typeof store !== 'object' ||
    typeof store.get !== 'function' ||
    typeof store.set !== 'function' ||
    typeof store.delete !== 'function' ||
    typeof store.capabilities !== 'object'
  ) {
    throw new ConfigError('The store is not a CacheStore (needs get, set, delete and capabilities)', 'store');
  }
  const caps = store.capabilities;
  shared.driver = store.driver ?? 'unknown';
  shared.raw = caps.rawValues === true;
  shared.storeChecksValues = shared.raw && caps.checksRawValues === true;
  shared.timeoutMs = caps.inProcess ? 0 : shared.configuredTimeoutMs;
  shared.maxKeyBytes = caps.maxKeyBytes > 0 ? caps.maxKeyBytes : Number.POSITIVE_INFINITY;
  shared.maxValueBytes = caps.maxValueBytes > 0 ? caps.maxValueBytes : Number.POSITIVE_INFINITY;
  const sync = store as CacheStore & SyncStoreMethods;
  if (caps.inProcess && typeof sync.getSync === 'function') shared.getSync = sync.getSync.bind(store);
  if (caps.inProcess && typeof sync.setSync === 'function') shared.setSync = sync.setSync.bind(store);
  shared.memoKeys = caps.inProcess === true;
  shared.store = store;
}

/** Locks through the store: `add` to acquire; `compareAndDelete` to release, else get-compare-delete. */
export function storeLockBackend(shared: Shared): LockBackend {
  const bound = <T>(promise: Promise<T>, operation: string): Promise<T> =>
    shared.timeoutMs === 0 ? promise : withTimeout(promise, shared.timeoutMs, operation, shared.driver);
  const wrap = (operation: string, key: string) => (error: unknown) => {
    const wrapped = asLarderError(error, shared.driver, operation);
    shared.emitter.counters.errors++;
    if (shared.emitter.listening('error')) shared.emitter.emit('error', { operation, key, error: wrapped });
    throw wrapped;
  };
  const ownerPayload = (owner: string, key: string): Payload => (shared.raw ? owner : shared.codec.encode(owner, key));
  const text = (payload: Payload): string =>
    typeof payload === 'string'
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString();
  return {
    async acquire(key, owner, ttlMs) {
      const store = shared.store ?? (await shared.ready);
      if (!store.add || !store.capabilities.atomicAdd) {
        throw new UnsupportedOperationError('locks', shared.driver, 'locks need an atomic set-if-absent');
      }
      checkKeyBytes(key, key, shared.maxKeyBytes, shared.driver);
      return bound(store.add(key, ownerPayload(owner, key), ttlMs), 'lock.acquire').catch(wrap('lock.acquire', key));
    },
    async release(key, owner) {
      const store = shared.store ?? (await shared.ready);
      const expected = ownerPayload(owner, key);
      if (store.compareAndDelete) {
        return bound(store.compareAndDelete(key, expected), 'lock.release').catch(wrap('lock.release', key));
      }
      // Emulated: get, compare, delete. Not atomic: if the lock expires and another owner takes
      // it between our get and our delete, we delete their lock. Drivers with locks avoid this.
      try {
        const current = await bound(store.get(key), 'lock.release');
        if (current === undefined || text(current) !== text(expected)) return false;
        return await bound(store.delete(key), 'lock.release');
      } catch (error) {
        return wrap('lock.release', key)(error);
      }
    },
  };
}
