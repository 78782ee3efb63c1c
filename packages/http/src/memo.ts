/**
 * The last answers of a pure computation by input, at most `max` of them; when full it starts over
 * (no order to keep on a hit path: the few hot inputs come back at once). Answers are shared, so
 * they must never be changed.
 */
export class Memo<K, V> {
  readonly #values = new Map<K, V>();

  constructor(private readonly max: number) {}

  /** The answer kept for `key`, if any. */
  get(key: K): V | undefined {
    return this.#values.get(key);
  }

  /** Keeps `value` for `key` and returns it. */
  keep(key: K, value: V): V {
    if (this.#values.size >= this.max) this.#values.clear();
    this.#values.set(key, value);
    return value;
  }
}
