// The tag versions this process's own tagged writes read last, so that the next write with the
// same tags can record them without a store call (a plain SET instead of the tag script). Sound
// for the never-stale rule in any case: a version older than the counter makes the entry read as
// invalidated (a lost write, never a stale read). Kept only while the L1 hears every change of a
// counter (tracking: another instance's bump, an expiry, an eviction, a DEL all reach it before an
// `invalidateTags` barrier resolves) and only within one L1 tag epoch: any tag change heard, a
// flush or a lapse of the lease starts a new epoch and forgets them all.

const MAX_KNOWN = 10_000;

/** Counter key → version, valid within one L1 tag epoch. */
export class KnownVersions {
  readonly #versions = new Map<string, number>();
  #epoch = Number.NaN;

  /** The version of counter `key` known in tag epoch `epoch`, else `undefined`. */
  get(key: string, epoch: number): number | undefined {
    if (epoch !== this.#epoch) {
      this.#versions.clear();
      this.#epoch = epoch;
      return undefined;
    }
    return this.#versions.get(key);
  }

  /** Records the versions a write read in tag epoch `epoch` (the epoch was unchanged when its reply came). */
  learn(keys: readonly string[], versions: readonly number[], epoch: number): void {
    if (epoch !== this.#epoch) {
      this.#versions.clear();
      this.#epoch = epoch;
    }
    const known = this.#versions;
    for (let i = 0; i < keys.length; i++) {
      known.set(keys[i] as string, versions[i] as number);
      if (known.size > MAX_KNOWN) known.delete(known.keys().next().value as string);
    }
  }
}
