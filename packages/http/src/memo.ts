/** A fill of a memo (from starting over to full) that answered fewer than 1 call in this many did not hold the inputs in use. */
const CALLS_PER_ANSWER = 8;

/**
 * The last answers of a pure computation by input, at most `max` of them; when full it starts over
 * (no order to keep on a hit path: the few hot inputs come back at once). A fill that answered
 * fewer than 1 call in 8 (more inputs in turn than it keeps) leaves it out for the next `16 * max`
 * calls: keeping what is not asked again costs more than it saves. Answers are shared, so they
 * must never be changed.
 */
export class Memo<K, V> {
  readonly #values = new Map<K, V>();
  #calls = 0;
  #answers = 0;
  #paused = 0;

  constructor(private readonly max: number) {}

  /** The answer kept for `key`, if any. */
  get(key: K): V | undefined {
    if (this.#paused > 0) {
      this.#paused--;
      return undefined;
    }
    this.#calls++;
    const value = this.#values.get(key);
    if (value !== undefined) this.#answers++;
    return value;
  }

  /** Keeps `value` for `key` and returns it. */
  keep(key: K, value: V): V {
    if (this.#paused > 0) return value;
    if (this.#values.size >= this.max) this.#startOver();
    if (this.#paused === 0) this.#values.set(key, value);
    return value;
  }

  #startOver(): void {
    if (this.#answers * CALLS_PER_ANSWER < this.#calls) this.#paused = 16 * this.max;
    this.#values.clear();
    this.#calls = 0;
    this.#answers = 0;
  }
}
