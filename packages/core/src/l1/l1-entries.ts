import type { Plan } from '../clone';

/** One decoded entry of the L1: the value (or the payload to decode on each hit) and its bounds. */
export interface L1Entry {
  /** The decoded value (a primitive, or an object copied out with `plan` on each hit), unless `payload` is set. */
  readonly value: unknown;
  /** How to copy `value` out (`copyOut`); `undefined` for a primitive. */
  readonly plan: Plan | undefined;
  /** The encoded payload, decoded on each hit, when the value is not kept decoded (a custom codec). */
  readonly payload: string | Uint8Array | undefined;
  /** Epoch ms after which the entry is gone. */
  readonly expiresAt: number;
  /** Counted size in bytes (key + payload). */
  readonly bytes: number;
}

/**
 * A least-recently-used map bounded by entries and by bytes (a Map in recency order: a hit
 * moves the key to the end, the oldest go first), with a per-entry expiry.
 */
export class L1Entries {
  readonly #map = new Map<string, L1Entry>();
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
    const map = this.#map;
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    map.delete(key);
    map.set(key, entry);
    return entry;
  }

  /** Stores `entry`, evicting the least recently used until both bounds hold; an entry larger than `maxBytes` is not kept. */
  set(key: string, entry: L1Entry): void {
    this.delete(key);
    if (entry.bytes > this.maxBytes) return;
    const map = this.#map;
    map.set(key, entry);
    this.#bytes += entry.bytes;
    while (map.size > this.maxEntries || this.#bytes > this.maxBytes) {
      const oldest = map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  /** The entry of `key` as held (no recency or expiry change). */
  peek(key: string): L1Entry | undefined {
    return this.#map.get(key);
  }

  /** Replaces the entry held for `key` in place (same size, same place in the recency order). */
  replace(key: string, entry: L1Entry): void {
    if (this.#map.has(key)) this.#map.set(key, entry);
  }

  /** Drops `key`. */
  delete(key: string): void {
    const entry = this.#map.get(key);
    if (entry === undefined) return;
    this.#map.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** Drops every key starting with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of this.#map.keys()) if (key.startsWith(prefix)) this.delete(key);
  }

  /** Drops everything. */
  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
