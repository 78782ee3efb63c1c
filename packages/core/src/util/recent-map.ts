/**
 * A bounded map that keeps at least the `max` keys set last and at most twice as many: two
 * generations, the older dropped whole when the newer fills. Every operation is O(1).
 *
 * Why not one `Map` that evicts its oldest key (`map.delete(map.keys().next().value)`): V8 leaves a
 * deleted entry's slot in the table until the table is rebuilt, and a new iterator walks every
 * such slot from the start. A full map that evicts one key per insert then walks thousands of
 * dead slots per eviction: about 10 µs per insert at 10,000 keys, 67 µs at 100,000 (measured on
 * Node 20), where this map costs 0.2–0.6 µs.
 */
export class RecentMap<K, V> {
  #newer = new Map<K, V>();
  #older = new Map<K, V>();

  /** `max`: the keys a generation holds before it becomes the older one. */
  constructor(readonly max: number) {}

  /** The value of `key`, if held. */
  get(key: K): V | undefined {
    // A key is in one generation at most (`set` takes it out of the older one).
    const value = this.#newer.get(key);
    return value !== undefined ? value : this.#older.get(key);
  }

  /** Whether `key` is held. */
  has(key: K): boolean {
    return this.#newer.has(key) || this.#older.has(key);
  }

  /** Holds `value` at `key` as one of the keys set last. */
  set(key: K, value: V): this {
    if (this.#older.size > 0) this.#older.delete(key);
    this.#newer.set(key, value);
    if (this.#newer.size >= this.max) {
      this.#older = this.#newer;
      this.#newer = new Map();
    }
    return this;
  }

  /** Drops `key`; whether it was held. */
  delete(key: K): boolean {
    const newer = this.#newer.delete(key);
    return this.#older.delete(key) || newer;
  }

  /** Drops every key. */
  clear(): void {
    this.#newer.clear();
    this.#older.clear();
  }

  /** How many keys are held. */
  get size(): number {
    return this.#newer.size + this.#older.size;
  }
}
