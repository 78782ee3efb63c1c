import { RecentMap } from '../util/recent-map';

/** Hints held at least (at most twice as many): the full keys written or read last. */
const MAX_HINTS = 10_000;

/**
 * The counter keys each tagged entry carried when this process last wrote or read it, for at
 * least the 10,000 entries hinted last (see `TagState.get`): its next read fetches them with the
 * entry. Insertion order, not recency: a hint held with the same counters stays where it is, so a
 * write or a read of a hinted entry costs one lookup (an entry hinted long ago and dropped is
 * hinted again at its next read).
 */
export class TagHints {
  readonly #hints = new RecentMap<string, readonly string[]>(MAX_HINTS);

  /** The counter keys `full` carried last, if hinted. */
  get(full: string): readonly string[] | undefined {
    return this.#hints.get(full);
  }

  /** `full`'s entry carries the counters `keys`. */
  set(full: string, keys: readonly string[]): void {
    const hints = this.#hints;
    const held = hints.get(full);
    // The same array for the same tag list met lately (`TagSets`); compared item by item otherwise.
    if (held === keys || (held !== undefined && sameKeys(held, keys))) return;
    hints.set(full, keys);
  }

  /** `full`'s entry carries no tags (or is gone). */
  delete(full: string): void {
    this.#hints.delete(full);
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
