import type { Payload } from '../contract/store';
import type { L1Description } from '../contract/store-description';
import type { L1Entry } from '../l1/entries';
import type { ExtendedLife } from '../l1/extension';
import type { FillLife, L1Tier, L1Token } from '../l1/tier';
import type { TaggedWrite } from '../tags/tag-policy';
import { copyOut } from '../values/clone';
import { freshValue, GRACE, isFresh, isGraced } from '../values/entry';
import { type Checked, type EntryMeta, Judged, stampOf } from '../values/entry-format';
import { TAG_KEY_PREFIX } from '../values/key-policy';

/** Decodes a read (a payload, or a `Judged` one: its verdict applied) into its stored entry (a graced entry stays wrapped). */
export type Decode = (read: Checked, key: string) => unknown;

/** Reads the metadata header of a payload (`metaOf`), `undefined` when it has none. */
export type ReadMeta = (payload: Payload) => EntryMeta | undefined;

/** What one read through the L1 found. */
export interface Fetched {
  /** The store call failed (`error`); nothing was read. */
  readonly failed: boolean;
  readonly error: unknown;
  /** The payload the store holds, as stored (`undefined`: absent); a verdict on its tags is applied in `entry`. */
  readonly payload: Payload | undefined;
  /** The payload decoded (a graced entry still wrapped), `undefined` when absent. */
  readonly entry: unknown;
}

/**
 * The one way a key is read through the L1 to the store (docs/architecture.md, "Reads"). Chosen
 * once, when the store is known: without an L1 every step is a no-op but the decode. With one:
 * `cached` answers from process memory; otherwise the store read is registered with `begin`
 * before it is sent and its answer offered with `offer` (kept only if no invalidation of the key
 * came first), or dropped with `abandon` when the read failed.
 */
export class ReadThrough {
  readonly #l1: L1Tier | undefined;
  readonly #decode: Decode;
  readonly #send: (full: string) => Promise<Checked | undefined>;
  readonly #meta: ReadMeta | undefined;
  readonly #slackMs: number;
  readonly #tagPrefix: string;
  /** Times the L1 answered (a value, or `has`), for tracing. */
  #answers = 0;

  /**
   * `send`: the store's `get` of a full key, bounded by the engine's timeout; `meta`: reads entries'
   * metadata when the codec writes it (an entry without it is bounded by the L1 TTL only), absent
   * when no entry carries any; `slackMs`:
   * how much earlier than asked the store may drop an entry (its TTL precision when coarser than
   * 1 ms: memcached counts whole seconds on a clock that ticks once a second).
   */
  constructor(
    l1: L1Tier | undefined,
    decode: Decode,
    send: (full: string) => Promise<Checked | undefined>,
    meta: ReadMeta | undefined,
    slackMs = 0,
    basePrefix = '',
  ) {
    this.#tagPrefix = `${basePrefix}${TAG_KEY_PREFIX}`;
    this.#l1 = l1;
    this.#decode = decode;
    this.#send = send;
    this.#meta = meta;
    this.#slackMs = slackMs;
  }

  /**
   * One read of `full` through the L1 to the store (call `cached` first to answer from the L1):
   * the payload and its decoded entry, offered to the L1. A failed store call resolves with
   * `failed` and its error (the caller applies its policy); a decode error rejects.
   */
  async read(full: string, key: string, decode: Decode = this.#decode): Promise<Fetched> {
    const token = this.#l1?.begin(full);
    let read: Checked | undefined;
    try {
      read = await this.#send(full);
    } catch (error) {
      this.abandon(token);
      return { failed: true, error, payload: undefined, entry: undefined };
    }
    const payload = read instanceof Judged ? read.payload : read;
    return { failed: false, error: undefined, payload, entry: this.offer(token, read, key, decode) };
  }

  /** Times the L1 answered a read (a value, or what `has` asked) since creation. */
  get answers(): number {
    return this.#answers;
  }

  /** Hits the L1 answered, or `undefined` without one. */
  get hits(): number | undefined {
    return this.#l1?.hits;
  }

  /** The fresh stored entry the L1 holds for `full` (decoded: a copy of its own for every caller; a graced entry still wrapped), counted as an L1 hit; else `undefined`. */
  cached(full: string, key: string): unknown {
    const entry = this.#l1?.get(full);
    if (entry === undefined) return undefined;
    const decoded = this.#fromEntry(entry, full, key);
    if (isGraced(decoded) && !isFresh(decoded)) return undefined;
    (this.#l1 as L1Tier).hit();
    this.#answers++;
    return decoded;
  }

  /** `cached`, grace unwrapped: the value a read returns. */
  cachedValue(full: string, key: string): unknown {
    const entry = this.#l1?.get(full);
    if (entry === undefined) return undefined;
    const value = freshValue(this.#fromEntry(entry, full, key));
    if (value !== undefined) {
      (this.#l1 as L1Tier).hit();
      this.#answers++;
    }
    return value;
  }

  /**
   * What the L1 says of `full` for `has`, without counting a hit: true or false when it holds the
   * key (a payload is checked undecoded by `isLive`), `undefined` when the store must be asked.
   */
  holds(full: string, key: string, isLive: (payload: Payload, key: string) => boolean): boolean | undefined {
    const entry = this.#l1?.get(full);
    if (entry === undefined) return undefined;
    this.#answers++;
    if (entry.payload !== undefined && entry.freshUntil === undefined) return isLive(entry.payload, key);
    return freshValue(this.#fromEntry(entry, full, key)) !== undefined;
  }

  /** Registers a store read of `full` about to be sent (`undefined` without an L1). */
  begin(full: string): L1Token | undefined {
    return this.#l1?.begin(full);
  }

  /** The store read registered by `token` failed: nothing is kept. */
  abandon(token: L1Token | undefined): void {
    if (token !== undefined) this.#l1?.fill(token, undefined, undefined);
  }

  /**
   * Decodes what the store answered (`decode`: the engine's, or a caller's lenient one that
   * answers `undefined` for a payload it cannot decode) and offers it to the L1: kept only if the
   * token survived. A decode error is thrown after the token is released.
   */
  offer(token: L1Token | undefined, read: Checked | undefined, key: string, decode: Decode = this.#decode): unknown {
    if (token === undefined) return read === undefined ? undefined : decode(read, key);
    let decoded: unknown;
    try {
      decoded = read === undefined ? undefined : decode(read, key);
    } finally {
      // A tagged entry a read judged invalidated (stale, or gone) is never kept.
      const kept = decoded === undefined || read instanceof Judged ? undefined : read;
      this.#l1?.fill(token, kept, decoded, kept === undefined ? undefined : this.#lifeOf(kept));
    }
    return decoded;
  }

  /** When the entry of a payload read from the store was written, when its metadata says. */
  writtenAt(payload: Payload): number | undefined {
    return this.#meta?.(payload)?.writtenAt;
  }

  /** When the L1's entry of `full` was written, when known (for `rememberWithStatus` after an L1 hit). */
  cachedWrittenAt(full: string): number | undefined {
    return this.#l1?.entries.peek(full)?.writtenAt;
  }

  /** Registers this process's write of `full` before it is sent (see `L1Tier.beginWrite`); `undefined` without an L1. */
  beginWrite(full: string): L1Token | undefined {
    return this.#l1?.beginWrite(full);
  }

  /**
   * The write of `full` registered by `beginWrite` at `sentAt` was acknowledged: other instances
   * are told, and the L1 keeps `value` (its `payload`) for at most `storeTtlMs` from `sentAt`,
   * unless an invalidation of the key arrived meanwhile.
   */
  wrote(
    token: L1Token | undefined,
    full: string,
    payload: Payload,
    value: unknown,
    storeTtlMs: number | undefined,
    sentAt: number,
    tagged?: TaggedWrite,
  ): void {
    const l1 = this.#l1;
    if (l1 === undefined) return;
    const expiresAt = storeTtlMs === undefined ? undefined : sentAt + storeTtlMs - this.#slackMs;
    l1.wrote(token, full, payload, value, { expiresAt, writtenAt: sentAt, tags: tagged?.keys, epoch: tagged?.epoch });
  }

  /** `wrote` for a batch sent at `sentAt` with one TTL: `tokens`, `entries` (full key, payload) and `values` aligned. */
  wroteAll(
    tokens: readonly (L1Token | undefined)[],
    entries: readonly (readonly [string, Payload])[],
    values: readonly unknown[],
    storeTtlMs: number | undefined,
    sentAt: number,
    tagged?: TaggedWrite,
  ): void {
    const l1 = this.#l1;
    if (l1 === undefined) return;
    l1.announce(entries.map(([full]) => full));
    const expiresAt = storeTtlMs === undefined ? undefined : sentAt + storeTtlMs - this.#slackMs;
    const life = { expiresAt, writtenAt: sentAt, tags: tagged?.keys, epoch: tagged?.epoch };
    for (let i = 0; i < entries.length; i++) {
      const [, payload] = entries[i] as readonly [string, Payload];
      l1.fill(tokens[i], payload, values[i], life);
    }
  }

  /** Before the store rewrites `full` with an extended life: announced first where the L1s need it (tracking; see `l1/extension.ts`). */
  async extending(full: string, life: ExtendedLife): Promise<void> {
    await this.#l1?.extensions?.before(full, life);
  }

  /**
   * The extension of `full` registered by `beginWrite` was stored as `payload` (`entry` decoded): the
   * L1 keeps it (as of the value's write time, until its new expiry) and other instances are told
   * its new life, not to drop their copies.
   */
  extended(token: L1Token | undefined, full: string, payload: Payload, entry: unknown, life: ExtendedLife): void {
    const l1 = this.#l1;
    if (l1 === undefined) return;
    const extensions = l1.extensions;
    if (extensions === undefined) l1.announce([full]);
    l1.fill(token, payload, entry, { expiresAt: life.expiresAt - this.#slackMs, writtenAt: life.writtenAt });
    extensions?.after(full, life, payload, entry);
  }

  /** Whether the L1 serves and hears every change of a tag counter (tracking: bumps, expiries, evictions), so that a version it heard no change of since it was read is current. */
  hearsTagChanges(): boolean {
    const l1 = this.#l1;
    return l1 !== undefined && l1.mode === 'tracking' && l1.up;
  }

  /** The L1's tag epoch (0 without one): read before a tagged write reads its versions (see `TaggedWrite`). */
  tagEpoch(): number {
    return this.#l1?.tagEpoch ?? 0;
  }

  /**
   * This process invalidated the tags of the counters `keys`: the L1 drops their entries and tells
   * other instances; with `wait`, it then waits for the L1's fleet barrier (every live instance
   * dropped its copies or stopped serving its L1). Soft invalidations wait too: an L1 elsewhere
   * that still held the entry would serve it as fresh, not as graced.
   */
  async tagsInvalidated(keys: readonly string[], wait: boolean): Promise<void> {
    const l1 = this.#l1;
    if (l1 === undefined) return;
    l1.tagsInvalidated(keys);
    if (wait) await l1.barrier();
  }

  /** How long the L1 may keep `payload` read from the store: until its expiry there (see `FillLife`). */
  #lifeOf(payload: Payload): FillLife | undefined {
    if (this.#meta === undefined) return undefined;
    const meta = this.#meta(payload);
    // No metadata (a counter, a compareAndSet write, an entry of an earlier version): its expiry in
    // the store is unknown; the L1 TTL bounds the copy, as before entries carried it.
    if (meta === undefined) return undefined;
    const expiresAt = meta.expiresAt === undefined ? undefined : meta.expiresAt - this.#slackMs;
    const stamp = stampOf(payload);
    if (stamp === undefined) return { expiresAt, writtenAt: meta.writtenAt };
    return { expiresAt, writtenAt: meta.writtenAt, tags: stamp.tags.map((tag) => this.#tagPrefix + tag) };
  }

  /** A write or delete of `full` reached the store (or failed: it may have landed): drop it from the L1 and tell other instances. */
  changed(full: string): void {
    this.#l1?.changed([full]);
  }

  /** `changed` for each key of a batch. */
  changedAll(fulls: readonly string[]): void {
    this.#l1?.changed(fulls);
  }

  /** The store holds something else than the L1 may: drop the L1's copy of `full` (nothing is published). */
  invalidate(full: string): void {
    this.#l1?.invalidate(full);
  }

  /** `clear` of `prefix` ran (or failed): drop the L1's entries under it and tell other instances. */
  cleared(prefix: string): void {
    this.#l1?.cleared(prefix);
  }

  /** The L1's description, or `undefined` without one. */
  describe(): L1Description | undefined {
    return this.#l1?.describe();
  }

  /** Resolves when every live instance's L1 has processed this process's earlier invalidations (see `L1Tier.barrier`); at once without an L1. */
  barrier(): Promise<void> {
    return this.#l1?.barrier() ?? Promise.resolve();
  }

  /** Stops the L1 (empties it, closes its invalidation connections). */
  async close(): Promise<void> {
    await this.#l1?.close();
  }

  /** The stored entry an L1 entry holds: its kept copy copied out, or its payload decoded (then kept decoded). */
  #fromEntry(entry: L1Entry, full: string, key: string): unknown {
    let decoded: unknown;
    if (entry.payload === undefined) decoded = copyOut(entry.value, entry.plan);
    else {
      decoded = this.#decode(entry.payload, key);
      this.#l1?.promote(full, entry, decoded);
    }
    // A life extension moved the graced entry's logical expiry (`l1/extension.ts`).
    if (entry.freshUntil !== undefined && isGraced(decoded)) decoded[GRACE] = entry.freshUntil;
    return decoded;
  }
}
