import type { Plan } from '../values/clone';

/** One decoded entry of the L1: the value (or the payload to decode on each hit) and its bounds. */
export interface L1Entry {
  /** The decoded value (a primitive, or an object copied out with `plan` on each hit), unless `payload` is set. */
  readonly value: unknown;
  /** How to copy `value` out (`copyOut`); `undefined` for a primitive. */
  readonly plan: Plan | undefined;
  /** The encoded payload, decoded on each hit, when the value is not kept decoded. */
  readonly payload: string | Uint8Array | undefined;
  /** Epoch ms after which the entry is gone (never after its expiry in the store). */
  readonly expiresAt: number;
  /** When the entry was written to the store (epoch ms), when known. */
  readonly writtenAt?: number;
  /** Counted size in bytes (key + payload). */
  readonly bytes: number;
  /** The counter keys of the entry's tags (tagged entries only). */
  readonly tags?: readonly string[];
  /** A life extension's logical expiry of a graced entry (epoch ms): replaces the one it was stored with (see `extension.ts`). */
  readonly freshUntil?: number;
}

/** A slot of the recency list. */
interface Slot {
  key: string;
  entry: L1Entry;
  older: Slot | undefined;
  newer: Slot | undefined;
}

/**
 * A least-recently-used map bounded by entries and by bytes, with a per-entry expiry. Recency is
 * a doubly linked list beside the Map: evicting "the first key of a Map" would be O(deleted
 * slots) in V8 (an LRU that deletes at the front leaves holes there until the table rehashes),
 * which cost about 10 µs per miss on a uniform key set 10× the L1.
 */
export class L1Entries {
  readonly #map = new Map<string, Slot>();
  #oldest: Slot | undefined;
  #newest: Slot | undefined;
  #bytes = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
  ) {}

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** Bytes held (keys + payloads, UTF-16 length for text). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The live entry of `key` (refreshing its recency), else `undefined` (an expired one is dropped). */
  get(key: string, now: number): L1Entry | undefined {
    const slot = this.#map.get(key);
    if (slot === undefined) return undefined;
    if (slot.entry.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    if (slot !== this.#newest) {
      this.#unlink(slot);
      this.#append(slot);
    }
    return slot.entry;
  }

  /** The entry of `key` as held (no recency or expiry change). */
  peek(key: string): L1Entry | undefined {
    return this.#map.get(key)?.entry;
  }

  /** Replaces the entry held for `key` in place (same size, same place in the recency order). */
  replace(key: string, entry: L1Entry): void {
    const slot = this.#map.get(key);
    if (slot !== undefined) slot.entry = entry;
  }

  /** Stores `entry`, evicting the least recently used until both bounds hold; an entry larger than `maxBytes` is not kept. */
  set(key: string, entry: L1Entry): void {
    this.delete(key);
    if (entry.bytes > this.maxBytes) return;
    const slot: Slot = { key, entry, older: undefined, newer: undefined };
    this.#map.set(key, slot);
    this.#append(slot);
    this.#bytes += entry.bytes;
    while (this.#map.size > this.maxEntries || this.#bytes > this.maxBytes) {
      this.delete((this.#oldest as Slot).key);
    }
  }

  /** Drops `key`: the entry it held, if any. */
  delete(key: string): L1Entry | undefined {
    const slot = this.#map.get(key);
    if (slot === undefined) return undefined;
    this.#map.delete(key);
    this.#unlink(slot);
    this.#bytes -= slot.entry.bytes;
    return slot.entry;
  }

  /** Calls `fn` with each key and entry held (no recency or expiry change). */
  each(fn: (key: string, entry: L1Entry) => void): void {
    for (const [key, slot] of this.#map) fn(key, slot.entry);
  }

  /** Drops every key starting with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of [...this.#map.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }

  /** Drops everything. */
  clear(): void {
    this.#map.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
    this.#bytes = 0;
  }

  #append(slot: Slot): void {
    slot.older = this.#newest;
    slot.newer = undefined;
    if (this.#newest !== undefined) this.#newest.newer = slot;
    this.#newest = slot;
    this.#oldest ??= slot;
  }

  #unlink(slot: Slot): void {
    if (slot.older !== undefined) slot.older.newer = slot.newer;
    else this.#oldest = slot.newer;
    if (slot.newer !== undefined) slot.newer.older = slot.older;
    else this.#newest = slot.older;
    slot.older = undefined;
    slot.newer = undefined;
  }
}
