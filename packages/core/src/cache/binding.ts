import type { ResolvedL1Options } from '../config/l1-options';
import { ConfigError } from '../contract/errors';
import type { CacheStore, Payload, SyncStoreMethods, TtlMs } from '../contract/store';
import { createL1Tier } from '../l1/source';
import { TagState } from '../tags/tag-state';
import { withTimeout } from '../util/timeout';
import type { Codec } from '../values/codec';
import type { Checked } from '../values/entry-format';
import { TAG_KEY_PREFIX } from '../values/key-policy';
import { envelopeText, openedEntry } from '../values/tagged-envelope';
import { type Decode, type ReadMeta, ReadThrough } from './read-through';
import { StoreBreaker, type StoreHealth } from './store-breaker';

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
  /** Bound `getSync` (a tagged entry's tags checked) and `setSync` of an in-process store that has them. */
  readonly getSync: ((key: string) => Checked | undefined) | undefined;
  /** `getSync` on the store's `getSyncShared` where it has one (no copy: for readers that never change the value). */
  readonly getShared: ((key: string) => Checked | undefined) | undefined;
  readonly setSync: ((key: string, payload: Payload, ttlMs: TtlMs) => void) | undefined;
  /** The store's `writtenAt` (entries without metadata: raw values), when it has one. */
  readonly writtenAt: ((key: string) => number | undefined) | undefined;
  /** Memoize full keys (in-process stores and L1 hits, where building the key is a large part of a call). */
  readonly memoKeys: boolean;
  /** The read-through path: with the L1 in front of the store, or without one. */
  readonly reads: ReadThrough;
  /** An L1 is in front of the store. */
  readonly tiered: boolean;
  /** The tag counters in the store: every read of a tagged entry checks them. */
  readonly tags: TagState;
  /** The store's `get` of a full key with a tagged entry's tags checked, the verdict beside the payload (`Checked`; unbounded: callers bound it). */
  readonly readChecked: (full: string) => Promise<Checked | undefined>;
  /** The store's batch read of distinct full keys with tagged entries' tags checked (`TagState.getMany`; unbounded). */
  readonly readManyChecked: (fulls: readonly string[]) => Promise<(Checked | undefined)[]>;
  /** Payloads read from the store with tagged entries' tags checked (`TagState.check`; as given for raw stores). */
  readonly checked: (payloads: (Payload | undefined)[]) => Promise<(Checked | undefined)[]> | (Checked | undefined)[];
  /** The store's health, and with the `breaker` option (never for an in-process store) its breaker: `limit` asks it and tells it. */
  readonly breaker: StoreBreaker;
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
  /** Reads an entry's metadata header (`metaOf`; every codec writes one); absent: entries carry none. */
  readonly meta: ReadMeta | undefined;
  /** Hears the store going down and up. */
  readonly health: (health: StoreHealth) => void;
  /** The `breaker` option: calls fail at once while the store is down (never for an in-process store). */
  readonly failFast: boolean;
}

/** Bounds a store call by the facade's timer where the facade owns the call's timeout (see `Binding.timeoutMs`), and counts its outcome in the store's health. */
export function limit<T>(binding: Binding, call: Promise<T>, operation: string): Promise<T> {
  // `clear` walks a whole prefix in many backend commands: the facade bounds it as a whole.
  const ms = operation === 'clear' ? binding.wholeTimeoutMs : binding.timeoutMs;
  const breaker = binding.breaker;
  if (!breaker.allow()) {
    call.catch(() => {}); // started already: its answer, whenever it comes, is nobody's
    return Promise.reject(breaker.refused(binding.driver, operation));
  }
  return (ms === 0 ? call : withTimeout(call, ms, operation, binding.driver)).then(breaker.answered, breaker.threw);
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
  const tags = new TagState(store, settings.basePrefix, (call, operation) => limit(binding, call, operation), raw);
  // An L1 in front of an in-process store would only add a copy: ignored there. Every counter
  // change it hears (and its flushes) reaches the tag state, which forgets what it knew of them.
  const l1 =
    settings.l1 !== undefined && !inProcess
      ? createL1Tier(settings.l1, store, {
          store: settings.name,
          prefix: settings.basePrefix,
          keepsDecoded: !raw,
          tagPrefix: `${settings.basePrefix}${TAG_KEY_PREFIX}`,
          slackMs: caps.ttlPrecisionMs > 1 ? caps.ttlPrecisionMs : 0,
          onTagsChanged: (keys) => tags.forget(keys),
        })
      : undefined;
  // The read-through path's store read (a tagged entry with its tags checked), bounded like every store call.
  const getSync = inProcess && typeof sync.getSync === 'function' ? sync.getSync.bind(store) : undefined;
  const shared = getSync && typeof sync.getSyncShared === 'function' ? sync.getSyncShared.bind(store) : undefined;
  // A synchronous read with a tagged entry's tags checked (the counters read by `getSync`).
  const checkedSync = (read: typeof getSync): Binding['getSync'] =>
    read === undefined || getSync === undefined
      ? undefined
      : raw
        ? (key) => {
            const payload = read(key);
            // Only an object can be an envelope: a plain get of anything else costs this one check.
            return typeof payload === 'object' ? (open(key, payload) as Payload | undefined) : payload;
          }
        : (key) => tags.checkSync(read(key), getSync, key);
  // A rawValues store keeps a tagged entry as an envelope: read back as its entry, tags checked
  // (the verdict applied here: a rawValues store's reads never carry one).
  const open = (full: string, payload: Payload | undefined): Payload | undefined | Promise<Payload | undefined> => {
    const text = envelopeText(payload);
    if (text === undefined) return payload;
    if (getSync !== undefined) return openedEntry(tags.checkSync(text, getSync, full), payload as Payload);
    return tags.check([text]).then(([checked]) => openedEntry(checked, payload as Payload));
  };
  const checkedGet = checkedSync(getSync);
  const send = raw
    ? async (full: string) => open(full, await limit(binding, store.get(full), 'get'))
    : (full: string) => limit(binding, tags.get(full), 'get');
  const binding: Binding = {
    store,
    driver: store.driver ?? 'unknown',
    raw,
    storeChecksValues: raw && caps.checksRawValues === true,
    timeoutMs: ownTimer(caps, settings.timeoutMs),
    wholeTimeoutMs: inProcess ? 0 : settings.timeoutMs,
    maxKeyBytes: caps.maxKeyBytes > 0 ? caps.maxKeyBytes : Number.POSITIVE_INFINITY,
    maxValueBytes: caps.maxValueBytes > 0 ? caps.maxValueBytes : Number.POSITIVE_INFINITY,
    getSync: checkedGet,
    // Without a shared read, the same function: nothing to tell apart.
    getShared: shared === undefined ? checkedGet : checkedSync(shared),
    setSync: inProcess && typeof sync.setSync === 'function' ? sync.setSync.bind(store) : undefined,
    writtenAt: typeof sync.writtenAt === 'function' ? sync.writtenAt.bind(store) : undefined,
    // An L1 hit is as cheap as an in-process read: building the full key would be a large part of it.
    memoKeys: inProcess || l1 !== undefined,
    reads: new ReadThrough(
      l1,
      settings.decode,
      send,
      raw ? undefined : settings.meta,
      caps.ttlPrecisionMs > 1 ? caps.ttlPrecisionMs : 0,
      settings.basePrefix,
    ),
    tiered: l1 !== undefined,
    tags,
    readChecked: raw ? async (full) => open(full, await store.get(full)) : (full) => tags.get(full),
    readManyChecked: raw
      ? async (fulls) => {
          const read = await (store.getMany ? store.getMany(fulls) : Promise.all(fulls.map((full) => store.get(full))));
          return Promise.all(read.map((payload, i) => open(fulls[i] as string, payload)));
        }
      : (fulls) => tags.getMany(fulls),
    checked: raw
      ? (payloads) =>
          payloads.some((payload) => envelopeText(payload) !== undefined)
            ? Promise.all(payloads.map((payload) => open('', payload)))
            : payloads
      : (payloads) => tags.check(payloads),
    breaker: new StoreBreaker(settings.health, settings.failFast && !inProcess),
  };
  // While the store is down, a read of a key nobody writes tells when it answers again (a store
  // method that throws instead of rejecting fails the probe like a rejection: it runs in a timer).
  const probeKey = `${settings.basePrefix}__larder_probe__`;
  const probe = () => new Promise<Payload | undefined>((resolve) => resolve(store.get(probeKey)));
  binding.breaker.probeWith(() => limit(binding, probe(), 'get'));
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
