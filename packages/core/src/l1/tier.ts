import type { ResolvedL1Options } from '../config/l1-options';
import type { InvalidationMessage, InvalidationMode, InvalidationSource } from '../contract/invalidation';
import type { Payload } from '../contract/store';
import type { L1Description, L1FleetDescription } from '../contract/store-description';
import { publishTopology } from '../util/tracing';
import { type CopyTarget, copyDecoded } from '../values/clone';
import { ownedBytes } from '../values/copy-plan';
import { L1Entries, type L1Entry } from './entries';
import type { ExtensionHost, L1Extensions } from './extension';
import type { Fences } from './fence';
import type { L1Lease } from './lease';
import { L1TagIndex } from './tag-index';

/** A read (or this process's write) in flight through the L1: kept only if no invalidation or flush of its key came first. */
export type L1Token = {
  readonly key: string;
  readonly write?: true;
  echoed?: true;
  readonly epoch: number;
  /** A write's: the counter keys the copy it replaced carried, still indexed under them while the index's `rebuilds` is `rebuilds`. */
  readonly replaced?: readonly string[] | undefined;
  readonly rebuilds?: number;
};

/** How long a fill may be kept and when its entry was written (both from the entry's metadata, when known). */
export interface FillLife {
  /** Epoch ms when the store drops the entry (an absolute time: computing it twice must not stretch it); `undefined`: the L1's own TTL is the only bound. */
  readonly expiresAt: number | undefined;
  readonly writtenAt: number | undefined;
  /** The counter keys of the entry's tags (tagged entries only). */
  readonly tags?: readonly string[];
  /** The tag epoch (`L1Tier.tagEpoch`) when the entry's tag versions were read, if before the token was taken. */
  readonly epoch?: number;
}

/** The lease and fences of an L1 whose store can hold them (see `barrier`). */
export interface L1Fleet {
  readonly lease: L1Lease;
  readonly fences: Fences;
  /** Keys under this prefix are the fleet's own (fences), never entries. */
  readonly root: string;
  /** Life extensions heard and announced (see `extension.ts`). */
  readonly extensions?: L1Extensions<L1Token>;
  /** The fleet as this instance sees it (`L1Description.fleet`). */
  describe(): L1FleetDescription;
}

const UNBOUNDED: FillLife = { expiresAt: undefined, writtenAt: undefined };

// Fixed per-entry overhead counted against maxBytes (map slot, entry object).
const ENTRY_OVERHEAD = 64;

/**
 * The in-process tier in front of a store (docs/architecture.md "Two tiers"): encoded payloads of values
 * read or written through the facade, decoded on every hit (each caller gets its own copy;
 * primitives are kept decoded). Reads register a placeholder token before the store call; an
 * invalidation or a flush cancels it, so a read in flight when its key changes answers its
 * caller but is not kept. While the invalidation channel is down the L1 is empty and bypassed.
 */
export class L1Tier implements ExtensionHost<L1Token> {
  readonly entries: L1Entries;
  readonly #pending = new Map<string, L1Token>();
  readonly #ttlMs: number;
  #up: boolean;
  #hits = 0;
  #flushes = 0;
  #closed = false;
  /** Counted up by every tag invalidation: a tagged fill whose versions were read in an earlier epoch is not kept. */
  #tagEpoch = 0;
  /** Full keys of the tagged entries, by counter key. */
  readonly #tagIndex: L1TagIndex;
  readonly #fleet: L1Fleet | undefined;
  readonly #lease: L1Lease | undefined;

  constructor(
    readonly options: ResolvedL1Options,
    readonly mode: InvalidationMode,
    readonly source: InvalidationSource | undefined,
    readonly store: string,
    readonly driver: string,
    /** Keep decoded values (copied in once, copied out on each hit) rather than payloads, when the copy reproduces them exactly (`copyDecoded`). */
    readonly keepsDecoded = true,
    /** Where the store's tag counters live (`<prefix>__larder:tag:`): a change of one drops the entries carrying its tag. */
    readonly tagPrefix: string | undefined = undefined,
    /** With a channel and a store that has compareAndSet: the lease the L1 serves under and the fences of `barrier`. */
    fleet?: (tier: L1Tier) => L1Fleet,
    /** Told of every counter change heard, and of every flush (`undefined`): what the store's tag state knows of those counters is dropped. */
    private readonly onTagsChanged?: (keys: readonly string[] | undefined) => void,
  ) {
    this.entries = new L1Entries(options.maxEntries, options.maxBytes);
    this.#tagIndex = new L1TagIndex(this.entries, options.maxEntries);
    this.#ttlMs = options.ttlMs;
    this.#up = source === undefined;
    this.#fleet = source === undefined ? undefined : fleet?.(this);
    this.#lease = this.#fleet?.lease;
    const root = this.#fleet?.root;
    source?.start({
      onKeys: (keys, local) => {
        for (const key of keys) {
          if (root === undefined || !key.startsWith(root)) this.#heard(key, local === true);
          else if (!this.#fleet?.extensions?.heard(key)) this.#fleet?.fences.heard(key);
        }
      },
      onFlush: (prefix) => (prefix === undefined ? this.flush() : this.invalidatePrefix(prefix)),
      onState: (up) => this.#state(up),
    });
  }

  /** True while the L1 answers (its invalidation channel is up and, in a fleet, its lease holds). */
  get up(): boolean {
    return this.#up && (this.#lease === undefined || this.#lease.holds());
  }

  /** True while the invalidation channel is up (the lease aside). */
  get channelUp(): boolean {
    return this.#up;
  }

  /** The live entry of `full`, else `undefined` (always `undefined` while down or while the lease does not hold). */
  get(full: string): L1Entry | undefined {
    if (!this.up) return undefined;
    return this.entries.get(full, Date.now());
  }

  /**
   * Resolves when every live instance sharing the store (each process with an L1 on it) has
   * processed every invalidation this process sent before the call, or has stopped serving its L1
   * (docs/architecture.md "The barrier"). At once without a channel or without a fleet.
   */
  barrier(): Promise<void> {
    return this.#fleet?.fences.barrier() ?? Promise.resolve();
  }

  /** Life extensions (`remember`'s `notModified()`), with a fleet. */
  get extensions(): L1Extensions<L1Token> | undefined {
    return this.#fleet?.extensions;
  }

  /** Keeps `entry` (untagged) for the read `token` registered, unless an invalidation, write or flush of its key came since. */
  keep(token: L1Token, entry: L1Entry): void {
    if (this.#pending.get(token.key) !== token || !this.#pending.delete(token.key)) return;
    if (this.up && entry.tags === undefined) this.entries.set(token.key, entry);
  }

  /** Counts a hit answered by the L1. */
  hit(): void {
    this.#hits++;
  }

  /** Hits answered by the L1 since creation. */
  get hits(): number {
    return this.#hits;
  }

  /** Registers a read of `full` before the store call; `undefined` while down or while this process writes the key (nothing will be kept). */
  begin(full: string): L1Token | undefined {
    if (!this.up) return undefined;
    let token = this.#pending.get(full);
    // A read racing this process's write may answer the old value: only the write fills.
    if (token?.write) return undefined;
    if (token === undefined) {
      token = { key: full, epoch: this.#tagEpoch };
      this.#pending.set(full, token);
    }
    return token;
  }

  /**
   * Registers this process's write of `full` before it is sent: drops the key's copy, cancels reads
   * of it in flight (they may answer the old value), and returns the token the write fills with
   * `fill` once the store acknowledged it (an invalidation arriving meanwhile cancels it);
   * `undefined` while down.
   */
  beginWrite(full: string): L1Token | undefined {
    const replaced = this.entries.delete(full)?.tags;
    this.#pending.delete(full);
    if (!this.up) return undefined;
    const token: L1Token = {
      key: full,
      write: true,
      epoch: this.#tagEpoch,
      replaced,
      rebuilds: this.#tagIndex.rebuilds,
    };
    this.#pending.set(full, token);
    return token;
  }

  /**
   * Keeps what the store answered for a read registered by `begin` (or what a write registered by
   * `beginWrite` stored), only if its token survived (no invalidation, write or flush of the key
   * since). `decoded` is kept as is when it is a primitive; `life` caps the entry's life below the
   * L1 TTL (its expiry in the store) and says when it was written.
   */
  fill(token: L1Token | undefined, payload: Payload | undefined, decoded: unknown, life: FillLife = UNBOUNDED): void {
    if (token === undefined) return;
    const full = token.key;
    if (this.#pending.get(full) !== token) return;
    this.#pending.delete(full);
    // Told only of keys this instance read (`readers` tracking): its own write would go unheard of later.
    if (payload === undefined || !this.up || (token.write && this.source?.tracksReads === true)) return;
    const tags = life.tags;
    if (tags !== undefined && tags.length > 0) {
      // A tag invalidated since its versions were read: the copy may be stale.
      const epoch = this.#tagEpoch;
      if (token.epoch !== epoch || (life.epoch !== undefined && life.epoch !== epoch)) return;
    }
    const now = Date.now();
    const expiresAt = life.expiresAt === undefined ? now + this.#ttlMs : Math.min(life.expiresAt, now + this.#ttlMs);
    if (expiresAt <= now) return;
    const size = typeof payload === 'string' ? payload.length * 2 : payload.byteLength;
    const primitive = decoded === null || (typeof decoded !== 'object' && typeof decoded !== 'function');
    // Objects are kept as their payload first: most entries of a large key set are read once, and
    // a retained object graph per miss costs the collector more than a string. A second hit
    // promotes the entry to a decoded copy (`promote`).
    this.entries.set(full, {
      value: primitive ? decoded : undefined,
      plan: undefined,
      payload: primitive ? undefined : keptPayload(payload),
      expiresAt,
      writtenAt: life.writtenAt,
      bytes: size + full.length * 2 + ENTRY_OVERHEAD,
      tags,
    });
    // A write of the same tag list (one array per list: `TagSets`) over an entry still indexed need not add it again.
    if (tags === undefined || tags.length === 0) return;
    if (token.replaced !== tags || token.rebuilds !== this.#tagIndex.rebuilds) this.#tagIndex.add(full, tags);
  }

  /** The current tag epoch (see `FillLife.epoch`). */
  get tagEpoch(): number {
    return this.#tagEpoch;
  }

  /** The counters `keys` of tags changed (here or elsewhere): the entries carrying them are dropped, tagged reads in flight are not kept. */
  tagsChanged(keys: readonly string[]): void {
    this.#tagEpoch++;
    this.onTagsChanged?.(keys);
    for (const key of keys) {
      const fulls = this.#tagIndex.take(key);
      if (fulls === undefined) continue;
      for (const full of fulls) if (this.entries.peek(full)?.tags?.includes(key)) this.entries.delete(full);
    }
  }

  /** This process invalidated the tags of the counters `keys`: dropped here at once, then other instances are told (the bus; tracking sees the counters change). */
  tagsInvalidated(keys: readonly string[]): void {
    this.tagsChanged(keys);
    this.source?.publish?.({ keys });
  }

  /**
   * A hit decoded `entry`'s payload into `decoded` (which goes to the caller): keep a copy of it
   * instead (copied out on later hits, cheaper than decoding), when the copy is exactly the
   * decoded value again (`copyDecoded`: plain data, whatever the codec) and the entry is still the
   * one in the L1.
   */
  promote(full: string, entry: L1Entry, decoded: unknown): void {
    if (!this.keepsDecoded || decoded === null || typeof decoded !== 'object') return;
    const target: CopyTarget = { value: undefined, plan: undefined };
    if (copyDecoded(target, decoded) <= 0 || this.entries.peek(full) !== entry) return;
    this.entries.replace(full, { ...entry, value: target.value, plan: target.plan, payload: undefined });
  }

  /** Drops `full` and cancels a read of it in flight. */
  invalidate(full: string): void {
    this.entries.delete(full);
    this.#pending.delete(full);
  }

  /** Drops every key under `prefix` and cancels reads of them in flight. */
  invalidatePrefix(prefix: string): void {
    this.entries.deletePrefix(prefix);
    for (const key of this.#pending.keys()) if (key.startsWith(prefix)) this.#pending.delete(key);
  }

  /** A write or delete of `keys` (full keys) went to the store: drop them here, then tell other instances. */
  changed(keys: readonly string[]): void {
    for (const key of keys) this.invalidate(key);
    this.source?.publish?.({ keys });
  }

  /** This process's write of `full` registered by `beginWrite` was acknowledged: tell other instances, then keep it (see `fill`). */
  wrote(token: L1Token | undefined, full: string, payload: Payload, decoded: unknown, life: FillLife): void {
    this.announce([full]);
    this.fill(token, payload, decoded, life);
  }

  /** Tells other instances that this process wrote `keys` (bus only; its own copies are kept). */
  announce(keys: readonly string[]): void {
    this.source?.publish?.({ keys });
  }

  /** `clear()` of `prefix` went to the store: drop here, then tell other instances. */
  cleared(prefix: string): void {
    this.invalidatePrefix(prefix);
    const message: InvalidationMessage = { prefix };
    this.source?.publish?.(message);
  }

  /** Drops everything and cancels every read in flight; published on `larder.topology` as `l1-flushed`. */
  flush(): void {
    this.entries.clear();
    this.#pending.clear();
    this.#tagIndex.clear();
    this.#tagEpoch++;
    this.onTagsChanged?.(undefined);
    this.#flushes++;
    publishTopology({ store: this.store, driver: this.driver, event: 'l1-flushed' });
  }

  /** Entries, bytes, bounds, mode and state, as plain data. */
  describe(): L1Description {
    return {
      entries: this.entries.size,
      bytes: this.entries.bytes,
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
      ttlMs: this.#ttlMs,
      invalidation: this.mode,
      state: this.up ? 'up' : 'down',
      hits: this.#hits,
      flushes: this.#flushes,
      ...(this.#fleet === undefined ? {} : { fleet: this.#fleet.describe() }),
    };
  }

  /** Stops the invalidation source. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#up = false;
    this.entries.clear();
    this.#pending.clear();
    await this.#lease?.close();
    await this.source?.close();
  }

  /** An invalidation of `full` from the channel: dropped; a local one is the echo a write of this L1 in flight expects once (its fill stands). */
  #heard(full: string, local: boolean): void {
    const tagPrefix = this.tagPrefix;
    if (tagPrefix !== undefined && full.startsWith(tagPrefix)) {
      this.tagsChanged([full]);
      return;
    }
    const token = this.#pending.get(full);
    if (local && token?.write && !token.echoed) {
      token.echoed = true;
      this.entries.delete(full);
      return;
    }
    if (this.#fleet?.extensions?.echoed(full)) return; // an announced life extension: checked, perhaps kept
    this.invalidate(full);
  }

  #state(up: boolean): void {
    if (this.#closed || up === this.#up) return;
    this.#up = up;
    // Down: whatever was kept may miss invalidations from now on; nothing is kept until it is up
    // again (reads in flight are cancelled too), so coming back up starts from empty. The lease
    // is renewed only while the channel is up: a new epoch once it is.
    if (!up) {
      this.flush();
      this.#lease?.stop();
    } else this.#lease?.start();
  }
}

/**
 * A payload as the L1 keeps it: bytes that are a view into a larger buffer are copied to memory of
 * their own. A client's reply is a view into its socket's read chunk (ioredis: up to 64 KB), a
 * codec's output may be one into its working buffer: kept as is, a small entry would hold all of it.
 */
function keptPayload(payload: Payload): Payload {
  if (typeof payload === 'string' || (payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength)) {
    return payload;
  }
  return ownedBytes(payload);
}
