import { ConfigError, describe } from '../contract/errors';
import type { CacheStore, Payload, TtlMs } from '../contract/store';
import { type ResolvedL1Options, resolveL1Options } from '../l1/options';
import { createL1Tier } from '../l1/source';
import type { L1Tier } from '../l1/tier';
import { SingleFlight } from '../util/single-flight';
import { type Codec, jsonCodec } from '../values/codec';
import { GraceCopies } from '../values/entry';
import { withSeparator } from '../values/key-policy';
import { parseTtl } from '../values/ttl';
import { CacheEmitter } from './events';
import type { LockBackend } from './operations/lock';
import type { CacheOptions } from './options';

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

const DEFAULT_TIMEOUT_MS = 5000;
const noop = () => {};

/** What a cache shares with its namespaces: validated options, the store and the settings derived from it. */
export interface CacheContext {
  readonly name: string;
  /** `traceKeys` option: keys go into `larder.operation` trace contexts. */
  readonly traceKeys: boolean;
  /** The store prefix (namespaces add their path after it). */
  readonly basePrefix: string;
  readonly codec: Codec;
  readonly onError: 'throw' | 'miss';
  readonly defaultTtlMs: TtlMs;
  readonly emitter: CacheEmitter;
  /** `remember`'s in-process single-flight, by full key. */
  readonly flights: SingleFlight;
  /** Last graced entries seen, served by `remember` when the backend read fails. */
  readonly graceCopies: GraceCopies;
  /** Resolves to the installed store (rejects when the store promise rejected or the store is invalid). */
  readonly ready: Promise<CacheStore>;
  /** Locks through the store (`lock()`, `remember`'s `lock`), set by the root `Cache`. */
  locks: LockBackend;
  closed: Promise<void> | undefined;
  /** The timeout option, applied to stores that are not in-process. */
  readonly configuredTimeoutMs: number;
  /** The store once installed; `undefined` while a store promise is pending. */
  store: CacheStore | undefined;
  driver: string;
  /** The store keeps values as given: no codec. */
  raw: boolean;
  /** The raw-value store checks and sizes values itself (`checksRawValues`). */
  storeChecksValues: boolean;
  /** Bound of every store call in ms; 0 = no timer (in-process store). */
  timeoutMs: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Bound `getSync`/`setSync` of an in-process store that has them. */
  getSync: ((key: string) => Payload | undefined) | undefined;
  setSync: ((key: string, payload: Payload, ttlMs: TtlMs) => void) | undefined;
  /** The L1 options, validated (an L1 is built once the store is known). */
  readonly l1Options: ResolvedL1Options | undefined;
  /** The L1 tier in front of the store, when configured (never for in-process stores). */
  l1: L1Tier | undefined;
  /** Memoize full keys (in-process stores, where building and hashing the key is a large part of a call). */
  memoKeys: boolean;
}

/** Validates the options (`ConfigError`, `InvalidTtlError`) and installs the store now, or once its promise resolves. */
export function createContext(options: CacheOptions): CacheContext {
  if (options === null || typeof options !== 'object' || options.store == null) {
    throw new ConfigError('new Cache(options) needs a `store` (a CacheStore or a promise of one)', 'store');
  }
  const given = options.prefix ?? '';
  if (typeof given !== 'string') throw new ConfigError(`prefix must be a string, got ${describe(given)}`, 'prefix');
  const onError = options.onError ?? 'throw';
  if (onError !== 'throw' && onError !== 'miss') {
    throw new ConfigError(`onError must be 'throw' or 'miss', got ${describe(onError)}`, 'onError');
  }
  const store = options.store;
  const context: CacheContext = {
    name: options.name ?? 'default',
    traceKeys: options.traceKeys === true,
    // 'app' would clear 'apple:' too: a non-empty prefix always ends with the ':' separator.
    basePrefix: withSeparator(given),
    codec: options.codec ?? jsonCodec,
    onError,
    defaultTtlMs: options.ttl === undefined ? undefined : parseTtl(options.ttl),
    configuredTimeoutMs: options.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseTtl(options.timeout),
    emitter: new CacheEmitter(),
    flights: new SingleFlight(),
    graceCopies: new GraceCopies(),
    ready: undefined as unknown as Promise<CacheStore>,
    locks: undefined as unknown as LockBackend,
    closed: undefined,
    store: undefined,
    driver: 'unknown',
    raw: false,
    storeChecksValues: false,
    timeoutMs: 0,
    maxKeyBytes: Number.POSITIVE_INFINITY,
    maxValueBytes: Number.POSITIVE_INFINITY,
    getSync: undefined,
    setSync: undefined,
    memoKeys: false,
    l1Options: options.l1 === undefined ? undefined : resolveL1Options(options.l1),
    l1: undefined,
  };
  let ready: Promise<CacheStore>;
  if (typeof (store as PromiseLike<CacheStore>).then === 'function') {
    ready = Promise.resolve(store).then((resolved) => {
      installStore(context, resolved);
      return resolved;
    });
    ready.catch(noop); // surfaced by every operation instead
  } else {
    installStore(context, store as CacheStore);
    ready = Promise.resolve(store as CacheStore);
  }
  (context as { ready: Promise<CacheStore> }).ready = ready;
  return context;
}

/** Validates a store and derives the hot-path settings from its capabilities. */
function installStore(context: CacheContext, store: CacheStore): void {
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
  context.driver = store.driver ?? 'unknown';
  context.raw = caps.rawValues === true;
  context.storeChecksValues = context.raw && caps.checksRawValues === true;
  context.timeoutMs = caps.inProcess ? 0 : context.configuredTimeoutMs;
  context.maxKeyBytes = caps.maxKeyBytes > 0 ? caps.maxKeyBytes : Number.POSITIVE_INFINITY;
  context.maxValueBytes = caps.maxValueBytes > 0 ? caps.maxValueBytes : Number.POSITIVE_INFINITY;
  const sync = store as CacheStore & SyncStoreMethods;
  if (caps.inProcess && typeof sync.getSync === 'function') context.getSync = sync.getSync.bind(store);
  if (caps.inProcess && typeof sync.setSync === 'function') context.setSync = sync.setSync.bind(store);
  context.memoKeys = caps.inProcess === true;
  // An L1 in front of an in-process store would only add a copy: ignored there.
  if (context.l1Options !== undefined && !caps.inProcess) {
    context.l1 = createL1Tier(context.l1Options, store, {
      store: context.name,
      prefix: context.basePrefix,
      keepsDecoded: !context.raw && context.codec === jsonCodec,
    });
    // An L1 hit is as cheap as an in-process read: building the full key would be a large part of it.
    context.memoKeys = true;
  }
  context.store = store;
}
