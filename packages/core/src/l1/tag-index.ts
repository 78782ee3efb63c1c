import type { L1Entries } from './entries';

/**
 * The L1's full keys of tagged entries, by counter key: a change of a counter drops the entries
 * carrying it (`take`). Evicted and dropped entries stay in the index until it is rebuilt.
 */
export class L1TagIndex {
  readonly #byTag = new Map<string, Set<string>>();
  #indexed = 0;
  /** `#indexed` above which the index is rebuilt (see `add`). */
  #rebuildAt: number;
  #rebuilds = 0;

  constructor(
    readonly entries: L1Entries,
    readonly maxEntries: number,
  ) {
    this.#rebuildAt = this.#firstRebuildAt();
  }

  /**
   * Counted up by each rebuild: an entry held under the same count is still indexed under its
   * tags after it was dropped (a write that replaces it with the same tags need not add it again).
   */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  /** Indexes `full`, held with `tags`. */
  add(full: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const fulls = this.#fullsOf(tag);
      if (!fulls.has(full)) {
        fulls.add(full);
        this.#indexed++;
      }
    }
    // The bound doubles with what a rebuild keeps, so a rebuild (a walk of the L1) comes only after
    // at least as many additions (plus 1,024): a fixed bound below the entries held times their
    // tags rebuilt on every fill.
    if (this.#indexed > this.#rebuildAt) this.#rebuild();
  }

  /** Takes counter `key` out of the index: the full keys indexed under it, if any. */
  take(key: string): Set<string> | undefined {
    const fulls = this.#byTag.get(key);
    if (fulls === undefined) return undefined;
    this.#byTag.delete(key);
    this.#indexed -= fulls.size;
    return fulls;
  }

  /** Drops everything (the L1 was flushed). */
  clear(): void {
    this.#byTag.clear();
    this.#indexed = 0;
    this.#rebuildAt = this.#firstRebuildAt();
    this.#rebuilds++;
  }

  /** The full keys indexed under `tag`, made empty if none. */
  #fullsOf(tag: string): Set<string> {
    let fulls = this.#byTag.get(tag);
    if (fulls === undefined) {
      fulls = new Set();
      this.#byTag.set(tag, fulls);
    }
    return fulls;
  }

  #firstRebuildAt(): number {
    return 2 * this.maxEntries + 1024;
  }

  #rebuild(): void {
    this.clear();
    const held: [string, readonly string[]][] = [];
    this.entries.each((full, entry) => {
      if (entry.tags !== undefined && entry.tags.length > 0) held.push([full, entry.tags]);
    });
    for (const [full, tags] of held) {
      for (const tag of tags) {
        this.#fullsOf(tag).add(full);
        this.#indexed++;
      }
    }
    this.#rebuildAt = Math.max(this.#firstRebuildAt(), 2 * this.#indexed + 1024);
  }
}
