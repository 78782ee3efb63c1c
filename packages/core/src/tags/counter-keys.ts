/** Tags whose counter keys are kept; past this the memo starts over. */
const MAX_KEYS = 10_000;

/**
 * Each tag's counter key (`<prefix>__larder:tag:<tag>`), kept as one string: a key built per
 * call is a new string that each map it meets (the counter expiries, the hints, the driver's
 * batch of writes) hashes again.
 */
export class CounterKeys {
  readonly #keys = new Map<string, string>();

  constructor(readonly prefix: string) {}

  /** The counter keys of `tags`, in order. */
  of(tags: readonly string[]): string[] {
    const memo = this.#keys;
    const keys: string[] = [];
    for (const tag of tags) {
      let key = memo.get(tag);
      if (key === undefined) {
        if (memo.size >= MAX_KEYS) memo.clear();
        key = this.prefix + tag;
        memo.set(tag, key);
      }
      keys.push(key);
    }
    return keys;
  }
}
