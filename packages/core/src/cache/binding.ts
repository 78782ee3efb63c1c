import { ConfigError } from '../contract/errors';
import type { CacheStore, Payload, SyncStoreMethods, TtlMs } from '../contract/store';
import type { ResolvedL1Options } from '../l1/options';
import { createL1Tier } from '../l1/source';
import { withTimeout } from '../util/timeout';
import { type Codec, jsonCodec } from '../values/codec';
import { type Decode, type ReadMeta, ReadThrough } from './read-through';

/** Everything the engine derives from the store, fixed once it is known (built whole, never filled in later). */
export interface Binding {
  readonly store: CacheStore;
  readonly driver: string;
  /** The store keeps values as given: no codec. */
  readonly raw: boolean;
  /** The raw-value store checks and sizes values itself (`checksRawValues`). */
  readonly storeChecksValues: boolean;
  /** The facade's timer on a store call in ms; 0 = none (in-process store, or the store's own deadline is the bound). */
  readonly timeoutMs: number;
  /** The facade's timer on a call made of many backend commands (`clear`); 0 for in-process stores. */
  readonly wholeTimeoutMs: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /** Bound `getSync`/`setSync` of an in-process store that has them. */
  readonly getSync: ((key: string) => Payload | undefined) | undefined;
  readonly setSync: ((key: string, payload: Payload, ttlMs: TtlMs) => void) | undefined;
  /** Memoize full keys (in-process stores and L1 hits, where building the key is a large part of a call). */
  readonly memoKeys: boolean;
  /** The read-through path: with the L1 in front of the store, or without one. */
  readonly reads: ReadThrough;
  /** An L1 is in front of the store. */
  readonly tiered: boolean;
}

/** What the engine hands `bindStore`: its settings, its decode and its timer. */
export interface BindSettings {
  readonly name: string;
  readonly basePrefix: string;
  readonly codec: Codec;
  /** The cache's `timeout` option in ms. */
  readonly timeoutMs: number;
  readonly l1: ResolvedL1Options | undefined;
  readonly decode: Decode;
  /** Reads an entry's metadata header (`metaOf`) when the codec writes one; absent: entries carry none. */
  readonly meta: ReadMeta | undefined;
}

/** Bounds a store call by the facade's timer where the facade owns the call's timeout (see `Binding.timeoutMs`). */
export function limit<T>(binding: Binding, call: Promise<T>, operation: string): Promise<T> {
  // `clear` walks a whole prefix in many backend commands: the facade bounds it as a whole.
  const ms = operation === 'clear' ? binding.wholeTimeoutMs : binding.timeoutMs;
  return ms === 0 ? call : withTimeout(call, ms, operation, binding.driver);
}

/** Validates a store (`ConfigError`) and derives the binding from its capabilities, once. */
export function bindStore(store: CacheStore, settings: BindSettings): Binding {
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
  const raw = caps.rawValues === true;
  const sync = store as CacheStore & SyncStoreMethods;
  const inProcess = caps.inProcess === true;
  // An L1 in front of an in-process store would only add a copy: ignored there.
  const l1 =
    settings.l1 !== undefined && !inProcess
      ? createL1Tier(settings.l1, store, {
          store: settings.name,
          prefix: settings.basePrefix,
          keepsDecoded: !raw && settings.codec === jsonCodec,
        })
      : undefined;
  // The read-through path's store read, bounded like every store call.
  const send = (full: string) => limit(binding, store.get(full), 'get');
  const binding: Binding = {
    store,
    driver: store.driver ?? 'unknown',
    raw,
    storeChecksValues: raw && caps.checksRawValues === true,
    timeoutMs: ownTimer(caps, settings.timeoutMs),
    wholeTimeoutMs: inProcess ? 0 : settings.timeoutMs,
    maxKeyBytes: caps.maxKeyBytes > 0 ? caps.maxKeyBytes : Number.POSITIVE_INFINITY,
    maxValueBytes: caps.maxValueBytes > 0 ? caps.maxValueBytes : Number.POSITIVE_INFINITY,
    getSync: inProcess && typeof sync.getSync === 'function' ? sync.getSync.bind(store) : undefined,
    setSync: inProcess && typeof sync.setSync === 'function' ? sync.setSync.bind(store) : undefined,
    // An L1 hit is as cheap as an in-process read: building the full key would be a large part of it.
    memoKeys: inProcess || l1 !== undefined,
    reads: new ReadThrough(
      l1,
      settings.decode,
      send,
      raw ? undefined : settings.meta,
      caps.ttlPrecisionMs > 1 ? caps.ttlPrecisionMs : 0,
    ),
    tiered: l1 !== undefined,
  };
  return binding;
}

/**
 * The facade's timer for a store's calls (0: none). One owner per call: an in-process store
 * needs none, and a store that bounds every call itself within the cache's `timeout`
 * (`capabilities.deadlineMs`) owns it; otherwise the facade's timer is the bound.
 */
function ownTimer(caps: CacheStore['capabilities'], timeoutMs: number): number {
  if (caps.inProcess) return 0;
  const own = caps.deadlineMs;
  return own !== undefined && own > 0 && own <= timeoutMs ? 0 : timeoutMs;
}
