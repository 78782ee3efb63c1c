import type { CacheStore, Payload, SyncStoreMethods, TaggedWriteReply, TtlMs } from '../contract/store';
import { type Checked, sectionMatches, sectionOf, stampOf } from '../values/entry-format';
import { TAG_KEY_PREFIX } from '../values/key-policy';
import { CounterExpiries, counterLife } from './counter-life';
import { KnownTags } from './known-versions';
import { type Bound, PlainCounters } from './plain-counters';
import { type PreparedTags, StoredTags } from './prepared-tags';
import { TagHints } from './tag-hints';
import { counterOf, HARD_STEP, judged, randomStart } from './tag-policy';
import { TagSets } from './tag-sets';

/**
 * The tag state of one cache in its store (core README "Tags"): a version counter per tag under
 * `<prefix>__larder:tag:<tag>`. Reads compare an entry's recorded versions with the counters
 * (`check`, `get`), writes record them (`versions`), `invalidateTags` bumps them (`bump`). Uses the
 * store's tag operations when it has them, else its plain ones (`PlainCounters`).
 */
export class TagState {
  readonly prefix: string;
  readonly #store: CacheStore;
  readonly #bound: Bound;
  /**
   * Tags are in use under this prefix (this cache wrote or invalidated tags, or read a tagged
   * entry): a key whose tagged entry this process wrote or read lately (`#hints`) is read with its
   * counters in one round trip (the store's `getWithTags`, else one `getMany`); other keys with a
   * plain `get` (a store's fastest read; see `#taggedShare`), and a tagged entry found by it costs
   * one more read of its counters, once.
   */
  #inUse = false;
  /** The counter keys each tagged entry written or read last carried (bounded, first hinted out; see tag-hints.ts): read with the entry in one `getMany` next time. */
  readonly #hints = new TagHints();
  /** The tag lists met lately: their counter keys, and `known`'s last answer for each. */
  readonly #sets: TagSets;
  /**
   * The share of entries found lately that were tagged (a moving average over about 64 reads):
   * with the store's `getWithTags`, a key without a hint is read with it when most entries are
   * tagged, else with a plain `get` (one command: an untagged entry needs no script), and a tagged
   * entry found that way costs one more read of its counters, once (then it is hinted).
   */
  #taggedShare = 0;
  /** When each counter this process made or extended expires. */
  readonly #expiries = new CounterExpiries();
  /** The versions this process's tagged writes read last, and `known`'s answers from them. */
  readonly #known: KnownTags;
  /** The counters on a store without tag operations. */
  readonly #plain: PlainCounters;

  /** `raw`: the store keeps values as given (rawValues). */
  constructor(store: CacheStore, basePrefix: string, bound: Bound, raw = false) {
    this.#store = store;
    this.prefix = `${basePrefix}${TAG_KEY_PREFIX}`;
    this.#sets = new TagSets(this.prefix);
    this.#bound = bound;
    this.#plain = new PlainCounters(store, bound, raw, this.#expiries);
    this.#known = new KnownTags(this.#expiries);
  }

  /** Whether tags are in use under this prefix in this process (see `#inUse`). */
  get inUse(): boolean {
    return this.#inUse;
  }

  /** The counter keys of `tags` (one array per tag list met lately: not to be changed). */
  keys(tags: readonly string[]): readonly string[] {
    return this.#sets.of(tags).keys;
  }

  /** One read of `full` with its tags checked: the payload, `Judged` when its tags were invalidated or are missing. */
  async get(full: string): Promise<Checked | undefined> {
    const store = this.#store;
    const hint = this.#inUse ? this.#hints.get(full) : undefined;
    if (this.#inUse && store.getWithTags !== undefined && (hint !== undefined || this.#taggedShare >= 0.5)) {
      // Preferred over an MGET of the entry and its known counters (measured on Redis: the MGET
      // saved the server ~8 µs per read but cost the client as much, and gets of one tick share
      // one script call where known keys would each send an MGET).
      const [payload, counters] = await store.getWithTags(full, this.prefix);
      if (payload === undefined) return undefined;
      this.#found(counters === true || counters.length > 0);
      if (counters === true) {
        if (hint !== undefined) this.#hints.set(full, hint);
        return payload;
      }
      const stamp = stampOf(payload);
      if (stamp === undefined) {
        this.#hints.delete(full);
        return payload;
      }
      this.#hints.set(full, this.keys(stamp.tags));
      // No counters for a tagged entry: the store did not read them (Redis reads an entry that is
      // not UTF-8 text, such as msgpack's, again as bytes): they are read here.
      if (counters.length === 0) return (await this.check([payload]))[0];
      return judged(payload, stamp, counters.map(counterOf));
    }
    if (hint !== undefined && store.getMany !== undefined) return this.#getHinted(full, hint);
    const payload = await store.get(full);
    const stamp = payload === undefined ? undefined : stampOf(payload);
    if (payload !== undefined && this.#inUse) this.#found(stamp !== undefined);
    if (payload === undefined || stamp === undefined) return payload;
    this.#hints.set(full, this.keys(stamp.tags));
    return (await this.check([payload]))[0];
  }

  /** Counts a found entry, tagged or not, into `#taggedShare`. */
  #found(tagged: boolean): void {
    this.#taggedShare += ((tagged ? 1 : 0) - this.#taggedShare) / 64;
  }

  /**
   * The entry and the counters it carried last time (`hint`) in one `getMany` (memcached: one
   * request per node, in parallel; DynamoDB: one BatchGetItem; Redis Cluster: one MGET per slot):
   * one round trip while its tags are the same, one more when they changed.
   */
  async #getHinted(full: string, hint: readonly string[]): Promise<Checked | undefined> {
    const read = await (this.#store.getMany as NonNullable<CacheStore['getMany']>)([full, ...hint]);
    const payload = read[0];
    if (typeof payload === 'string' && sectionMatches(payload, this.prefix, hint, read)) {
      this.#hints.set(full, hint);
      return payload;
    }
    const stamp = payload === undefined ? undefined : stampOf(payload);
    if (stamp === undefined) this.#hints.delete(full);
    if (payload === undefined || stamp === undefined) return payload;
    const keys = this.keys(stamp.tags);
    if (keys.every((key) => hint.includes(key))) {
      return judged(
        payload,
        stamp,
        keys.map((key) => counterOf(read[1 + hint.indexOf(key)])),
      );
    }
    this.#hints.set(full, keys);
    return (await this.check([payload]))[0];
  }

  /**
   * Payloads of distinct full keys with tagged entries' tags checked, in one round trip where it
   * can: the store's `getWithTags` for each (Redis batches a tick's calls into one script), else
   * one `getMany` of the keys and of the counters their entries carried last time; an entry whose
   * counters were not all read (first read, tags changed) costs one more read of them.
   */
  async getMany(fulls: readonly string[]): Promise<(Checked | undefined)[]> {
    const store = this.#store;
    if (this.#inUse && store.getWithTags !== undefined) return Promise.all(fulls.map((full) => this.get(full)));
    const extra = this.#inUse ? [...new Set(fulls.flatMap((full) => this.#hints.get(full) ?? []))] : [];
    const all = extra.length === 0 ? (fulls as string[]) : [...fulls, ...extra];
    const read = await (store.getMany ? store.getMany(all) : Promise.all(all.map((key) => store.get(key))));
    const counters = new Map<string, number | undefined>();
    for (let i = 0; i < extra.length; i++) counters.set(extra[i] as string, counterOf(read[fulls.length + i]));
    // The array a store answers is the caller's: with no counters after the entries, it is the answer.
    const out: (Checked | undefined)[] = extra.length === 0 ? read : read.slice(0, fulls.length);
    const rest: number[] = [];
    for (let i = 0; i < fulls.length; i++) {
      const payload = read[i];
      const stamp = payload === undefined ? undefined : stampOf(payload);
      if (payload === undefined || stamp === undefined) continue;
      const keys = this.keys(stamp.tags);
      this.#hints.set(fulls[i] as string, keys);
      if (keys.every((key) => counters.has(key)))
        out[i] = judged(
          payload,
          stamp,
          keys.map((key) => counters.get(key)),
        );
      else rest.push(i);
    }
    if (rest.length > 0) {
      const checked = await this.check(rest.map((i) => read[i]));
      for (let j = 0; j < rest.length; j++) out[rest[j] as number] = checked[j];
    }
    return out;
  }

  /**
   * `check` of one payload read by a synchronous store (`getSync`) at `full`: the counters read
   * synchronously too; those it carried last time compared in place, without parsing its tags.
   */
  checkSync(
    payload: Payload | undefined,
    getSync: NonNullable<SyncStoreMethods['getSync']>,
    full?: string,
  ): Checked | undefined {
    if (payload === undefined) return undefined;
    const hint = full === undefined ? undefined : this.#hints.get(full);
    if (hint !== undefined && typeof payload === 'string') {
      const read: (Payload | undefined)[] = [payload];
      for (const key of hint) {
        // A rawValues store keeps a counter as a number.
        const counter = getSync(key) as unknown;
        read.push(typeof counter === 'number' ? String(counter) : (counter as Payload | undefined));
      }
      if (sectionMatches(payload, this.prefix, hint, read)) return payload;
    }
    const stamp = stampOf(payload);
    if (stamp === undefined) {
      if (hint !== undefined) this.#hints.delete(full as string);
      return payload;
    }
    this.#inUse = true;
    if (full !== undefined) this.#hints.set(full, this.keys(stamp.tags));
    return judged(
      payload,
      stamp,
      stamp.tags.map((tag) => counterOf(getSync(this.prefix + tag))),
    );
  }

  /** Payloads read from the store with their tags checked (see `get`): one read of every counter they name (the caller bounds it). */
  async check(payloads: readonly (Payload | undefined)[]): Promise<(Checked | undefined)[]> {
    const stamps = payloads.map((payload) => (payload === undefined ? undefined : stampOf(payload)));
    const wanted = new Set<string>();
    for (const stamp of stamps) if (stamp !== undefined) for (const tag of stamp.tags) wanted.add(this.prefix + tag);
    if (wanted.size === 0) return payloads as (Checked | undefined)[];
    this.#inUse = true;
    const keys = [...wanted];
    const store = this.#store;
    // Unbounded here: every caller's read is bounded as a whole (one timer per call).
    const read = await (store.getMany ? store.getMany(keys) : Promise.all(keys.map((key) => store.get(key))));
    const counters = new Map<string, number | undefined>();
    for (let i = 0; i < keys.length; i++) counters.set(keys[i] as string, counterOf(read[i]));
    return payloads.map((payload, i) => {
      const stamp = stamps[i];
      if (payload === undefined || stamp === undefined) return payload;
      return judged(
        payload,
        stamp,
        stamp.tags.map((tag) => counters.get(this.prefix + tag)),
      );
    });
  }

  /** The versions of `tags` a write records, read before its value is computed; missing counters are made, and every counter outlives `ttlMs` (an array: read at once). */
  versions(tags: readonly string[], ttlMs: TtlMs): number[] | Promise<number[]> {
    const keys = this.keys(tags);
    const store = this.#store;
    this.#inUse = true;
    const life = counterLife(ttlMs);
    if (store.tagVersions !== undefined) {
      const starts = keys.map(() => randomStart());
      return this.#bound(store.tagVersions(keys, starts, life), 'tagVersions');
    }
    return (
      this.#plain.versionsNow(keys, ttlMs) ?? Promise.all(keys.map((key) => this.#plain.version(key, ttlMs, life)))
    );
  }

  /**
   * What a write of an entry tagged `tags` kept `ttlMs` needs, read before its value is computed:
   * the tag section it carries, and its tags as the L1 keeps them (`epoch`: the L1's tag epoch,
   * read by the caller before this); `fulls`: the full keys it writes.
   */
  prepare(tags: readonly string[], ttlMs: TtlMs, epoch: number, fulls: readonly string[]): Promise<PreparedTags> {
    let read: number[] | Promise<number[]>;
    try {
      read = this.versions(tags, ttlMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const prepared = (versions: number[]): PreparedTags => {
      const keys = this.keys(tags);
      // This process's next read of these entries fetches their counters with them (see `get`).
      for (const full of fulls) this.#hints.set(full, keys);
      // The section is built when a write sends it (a scope's `pin` may never write).
      return new StoredTags({ tags, versions }, { keys, epoch });
    };
    return Array.isArray(read) ? Promise.resolve(prepared(read)) : read.then(prepared);
  }

  /**
   * `first` with the tags of `second` it lacks, read later: `first`'s versions and L1 epoch stand
   * (read earlier, so an invalidation since then still wins over the write).
   */
  combine(first: PreparedTags, second: PreparedTags): PreparedTags {
    const versions = new Map<string, number>();
    for (const { stamp } of [second, first]) {
      for (let i = 0; i < stamp.tags.length; i++) versions.set(stamp.tags[i] as string, stamp.versions[i] as number);
    }
    const tags = [...versions.keys()].sort();
    const stamp = { tags, versions: tags.map((tag) => versions.get(tag) as number) };
    return { section: sectionOf(stamp), stamp, write: { keys: this.keys(tags), epoch: first.write.epoch } };
  }

  /** Whether the store writes a tagged entry with its tags' versions in one call (`setTagged`). */
  get writesInOne(): boolean {
    return this.#store.setTagged !== undefined;
  }

  /**
   * `prepare` and the write of `full` (`head`, the tag section, `tail`) in one store call
   * (`setTagged`, see `writesInOne`): the versions are read and the entry written atomically, so an
   * invalidation after the call wins over it. A counter this process knows outlives the entry is
   * not checked for its expiry (the server then reads only the counters and writes the entry).
   */
  setTagged(
    full: string,
    parts: { readonly head: string; readonly tail: string },
    tags: readonly string[],
    ttlMs: TtlMs,
    epoch: number,
  ): Promise<PreparedTags> {
    const setTagged = this.#store.setTagged as NonNullable<CacheStore['setTagged']>;
    const keys = this.keys(tags);
    this.#inUse = true;
    const life = counterLife(ttlMs);
    const now = Date.now();
    const extend = keys.map((key) => !this.#expiries.outlives(key, life, now));
    const entry = {
      head: parts.head,
      tail: parts.tail,
      tags,
      counters: keys,
      start: randomStart(),
      extend,
      counterTtlMs: life,
    };
    // A promise chain, not an async function: one frame less per tagged write (measured in bytes per write).
    let call: Promise<TaggedWriteReply>;
    try {
      call = setTagged.call(this.#store, full, entry, ttlMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return call.then(({ versions, lifeMs }) => {
      // Measured from before the call: the server set or read each life after `now`, so this errs short.
      for (let i = 0; i < lifeMs.length; i++) {
        const left = lifeMs[i];
        if (left !== undefined) this.#expiries.expiresAt(keys[i] as string, now + left);
      }
      this.#hints.set(full, keys);
      return new StoredTags({ tags, versions: versions as number[] }, { keys, epoch });
    });
  }

  /**
   * `prepare` without a store call, when this process's writes read every version of `tags` since
   * their counters last changed and each outlives `ttlMs` (call only while the L1 hears every
   * counter change: see known-versions.ts); else `undefined`.
   */
  known(tags: readonly string[], ttlMs: TtlMs, epoch: number, fulls: readonly string[]): PreparedTags | undefined {
    const set = this.#sets.of(tags);
    const prepared = this.#known.of(set, tags, ttlMs, epoch);
    if (prepared === undefined) return undefined;
    for (const full of fulls) this.#hints.set(full, set.keys);
    return prepared;
  }

  /** The versions a tagged write read (`prepared`; no counter change heard meanwhile), for `known`. */
  learn(prepared: PreparedTags): void {
    this.#known.learn(prepared.write.keys, prepared.stamp.versions);
  }
  /** The L1 heard counters `keys` change (`undefined`: it was flushed). */
  forget(keys: readonly string[] | undefined): void {
    this.#known.forget(keys);
  }

  /** Invalidates `tags`: hard (their entries read as misses) or soft (stale: served only within `remember`'s grace). */
  async bump(tags: readonly string[], soft: boolean): Promise<void> {
    const keys = this.keys(tags);
    const delta = soft ? 1 : HARD_STEP;
    const store = this.#store;
    this.#inUse = true;
    if (store.bumpTags !== undefined) {
      await this.#bound(store.bumpTags(keys, delta), 'invalidateTags');
      return;
    }
    await this.#plain.bump(keys, delta);
  }
}
