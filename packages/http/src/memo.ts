/** A fill of a memo (from starting over to full) that answered fewer than 1 lookup in this many did not hold the inputs in use. */
const LOOKUPS_PER_ANSWER = 8;

/**
 * When a memo that starts over when full is worth asking: it counts the lookups and answers of
 * each fill, and a fill that answered fewer than 1 lookup in 8 (more inputs in turn than the memo
 * keeps) leaves the memo out for the next `pause` lookups, after which it learns again. Keeping
 * what is not asked again costs more than it saves.
 */
export class MemoPause {
  #lookups = 0;
  #answers = 0;
  #left = 0;

  /** `pause`: lookups a memo is left out for after a fill that did not pay. */
  constructor(private readonly pause: number) {}

  /** Whether the memo is left out now. */
  get paused(): boolean {
    return this.#left > 0;
  }

  /** A lookup: true when the memo is left out for it (it counts against the pause), else false. */
  skip(): boolean {
    if (this.#left === 0) return false;
    this.#left--;
    return true;
  }

  /** Counts a lookup the memo was asked, `answered` or not. */
  asked(answered: boolean): void {
    this.#lookups++;
    if (answered) this.#answers++;
  }

  /** The memo starts over: judges the fill that ends (when it had at least `minLookups`) and starts counting anew. */
  startOver(minLookups = 0): void {
    if (this.#lookups >= minLookups && this.#answers * LOOKUPS_PER_ANSWER < this.#lookups) this.#left = this.pause;
    this.#lookups = 0;
    this.#answers = 0;
  }
}

/**
 * The last answers of a pure computation by input, at most `max` of them; when full it starts over
 * (no order to keep on a hit path: the few hot inputs come back at once), and is left out for
 * `16 * max` lookups after a fill that did not pay (`MemoPause`). Answers are shared, so they must
 * never be changed.
 */
export class Memo<K, V> {
  readonly #values = new Map<K, V>();
  readonly #pause: MemoPause;

  constructor(private readonly max: number) {
    this.#pause = new MemoPause(16 * max);
  }

  /** The answer kept for `key`, if any. */
  get(key: K): V | undefined {
    if (this.#pause.skip()) return undefined;
    const value = this.#values.get(key);
    this.#pause.asked(value !== undefined);
    return value;
  }

  /** Keeps `value` for `key` and returns it. */
  keep(key: K, value: V): V {
    if (this.#pause.paused) return value;
    if (this.#values.size >= this.max) {
      this.#pause.startOver();
      this.#values.clear();
    }
    if (!this.#pause.paused) this.#values.set(key, value);
    return value;
  }
}
