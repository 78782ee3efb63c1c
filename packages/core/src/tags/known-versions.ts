import type { TtlMs } from '../contract/store';
import { RecentMap } from '../util/recent-map';
import { sectionOf } from '../values/entry-format';
import { type CounterExpiries, counterLife, outlives } from './counter-life';
import type { PreparedTags } from './prepared-tags';
import type { TagSet } from './tag-sets';

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

/**
 * `TagState.known`'s answers: a tag list's prepared tags from the versions this process's writes
 * read last, kept in its `TagSet` and reused while no known version changed (`generation`) and the
 * list's first counter to expire outlives the entry.
 */
export class KnownTags {
  readonly #versions = new KnownVersions();

  /** `expiries`: when each counter this process made or extended expires (the tag state's). */
  constructor(private readonly expiries: CounterExpiries) {}

  /** The prepared tags of `set` (the list `tags`) for a write kept `ttlMs`, or `undefined` when a version is not known or a counter may not outlive it. */
  of(set: TagSet, tags: readonly string[], ttlMs: TtlMs, epoch: number): PreparedTags | undefined {
    const life = counterLife(ttlMs);
    const now = Date.now();
    let prepared = set.known;
    if (prepared === undefined || set.generation !== this.#versions.generation || !outlives(set.expiresAt, life, now)) {
      return this.#answer(set, tags, life, now, epoch);
    }
    if (prepared.write.epoch !== epoch) {
      prepared = { section: prepared.section, stamp: prepared.stamp, write: { keys: set.keys, epoch } };
      set.known = prepared;
    }
    return prepared;
  }

  /** Records the versions a write read (see `KnownVersions.learn`). */
  learn(keys: readonly string[], versions: readonly number[]): void {
    this.#versions.learn(keys, versions);
  }

  /** Counters `keys` changed (`undefined`: all may have). */
  forget(keys: readonly string[] | undefined): void {
    this.#versions.forget(keys);
  }

  /** The answer from each counter's version and expiry, kept in `set` for the next write with its tags. */
  #answer(set: TagSet, tags: readonly string[], life: TtlMs, now: number, epoch: number): PreparedTags | undefined {
    const generation = this.#versions.generation;
    const versions: number[] = [];
    let expiresAt = Number.POSITIVE_INFINITY;
    for (const key of set.keys) {
      const version = this.#versions.get(key);
      const at = this.expiries.get(key) ?? Number.NEGATIVE_INFINITY;
      if (version === undefined || !outlives(at, life, now)) return undefined;
      versions.push(version);
      expiresAt = Math.min(expiresAt, at);
    }
    const stamp = { tags, versions };
    const prepared = { section: sectionOf(stamp), stamp, write: { keys: set.keys, epoch } };
    set.known = prepared;
    set.generation = generation;
    set.expiresAt = expiresAt;
    return prepared;
  }
}
