import { RecentMap } from '../util/recent-map';

// The tag versions this process's own tagged writes read last, so that the next write with the
// same tags can record them without a store call (a plain SET instead of the tag script). Sound
// for the never-stale rule in any case: a version older than the counter makes the entry read as
// invalidated (a lost write, never a stale read). Used only while the L1 hears every change of a
// counter (tracking: another instance's bump, an expiry, an eviction, a DEL all reach it before an
// `invalidateTags` barrier resolves): a change heard forgets that counter's version, a flush of
// the L1 (its channel down, a lapse of its lease) forgets them all.

const MAX_KNOWN = 10_000;

/** Counter key → the version this process's last tagged write with it read. */
export class KnownVersions {
  readonly #versions = new RecentMap<string, number>(MAX_KNOWN);
  #generation = 0;

  /**
   * Changes when a known version changes or is forgotten: an answer built from the versions known
   * under one generation holds while it is current (a version dropped only to bound the memory
   * is still the counter's).
   */
  get generation(): number {
    return this.#generation;
  }

  /** The version of counter `key`, if known. */
  get(key: string): number | undefined {
    return this.#versions.get(key);
  }

  /** Records the versions a write read (no change of any counter was heard while it was in flight). */
  learn(keys: readonly string[], versions: readonly number[]): void {
    const known = this.#versions;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const version = versions[i] as number;
      const held = known.get(key);
      // Set again even when unchanged: it is then among the versions read last (`RecentMap`).
      known.set(key, version);
      if (held !== version) this.#generation++;
    }
  }

  /** Counters `keys` changed (`undefined`: the L1 was flushed, anything may have): their versions are no longer known. */
  forget(keys: readonly string[] | undefined): void {
    this.#generation++;
    if (keys === undefined) this.#versions.clear();
    else for (const key of keys) this.#versions.delete(key);
  }
}
