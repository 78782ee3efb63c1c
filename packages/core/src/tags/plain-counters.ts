import { UnsupportedOperationError } from '../contract/errors';
import type { CacheStore, Payload, SyncStoreMethods, TtlMs } from '../contract/store';
import type { CounterExpiries } from './counter-life';
import { counterOf, randomStart } from './tag-policy';

/** Bounds a store call like every other (the engine's timeout owner). */
export type Bound = <T>(call: Promise<T>, operation: string) => Promise<T>;

/**
 * Tag counters kept with a store's plain operations (`get`, `add`, `touch`, `increment`,
 * `delete`), on a store without tag operations (memcached, DynamoDB): read for a write, made when
 * missing and extended; bumped by an invalidation.
 */
export class PlainCounters {
  readonly #store: CacheStore;
  readonly #bound: Bound;
  /** The store keeps values as given (rawValues): a counter is kept as a number, which its `increment` takes. */
  readonly #raw: boolean;
  readonly #expiries: CounterExpiries;
  /** An in-process store's synchronous `get`: its counters are read without a promise each (`versionsNow`). */
  readonly #getSync: ((key: string) => Payload | undefined) | undefined;

  constructor(store: CacheStore, bound: Bound, raw: boolean, expiries: CounterExpiries) {
    this.#store = store;
    this.#bound = bound;
    this.#raw = raw;
    this.#expiries = expiries;
    const getSync = (store as CacheStore & SyncStoreMethods).getSync;
    this.#getSync =
      store.capabilities.inProcess === true && typeof getSync === 'function' ? getSync.bind(store) : undefined;
  }

  /**
   * The versions of counters `keys` for a write of an entry kept `ttlMs`, read at once from an
   * in-process store when each exists and needs no extension (see `version`); else `undefined`.
   */
  versionsNow(keys: readonly string[], ttlMs: TtlMs): number[] | undefined {
    const getSync = this.#getSync;
    if (getSync === undefined) return undefined;
    const extends_ = this.#store.touch !== undefined;
    const wanted = ttlMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttlMs;
    const versions: number[] = [];
    for (const key of keys) {
      const version = counterOf(getSync(key));
      const known = this.#expiries.get(key);
      if (version === undefined || (extends_ && (known === undefined || known < wanted))) return undefined;
      versions.push(version);
    }
    return versions;
  }

  /** The version of counter `key` for a write of an entry kept `ttlMs`, making it when missing (`add`) and extending it to `life` (`touch`). */
  async version(key: string, ttlMs: TtlMs, life: TtlMs): Promise<number> {
    const store = this.#store;
    const { add, touch } = store;
    if (add === undefined) throw new UnsupportedOperationError('tags', store.driver, 'it has no add');
    // Read first: a counter usually exists (it outlives its entries), so one round trip, not a failed `add` and then a read.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = counterOf(await this.#bound(store.get(key), 'tagVersions'));
      if (current !== undefined) {
        const known = this.#expiries.get(key);
        const wanted = ttlMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttlMs;
        if (touch !== undefined && (known === undefined || known < wanted)) {
          // Without an atomic "extend only" a touch may shorten another writer's longer expiry: its
          // entries then read as misses (fail closed), never as stale values.
          await this.#bound(touch.call(store, key, life), 'tagVersions');
          this.#expiries.extended(key, life);
        }
        return current;
      }
      const start = randomStart();
      const made = add.call(store, key, this.#raw ? (start as unknown as Payload) : String(start), life);
      if (await this.#bound(made, 'tagVersions')) {
        this.#expiries.extended(key, life);
        return start;
      }
    }
    throw new UnsupportedOperationError('tags', store.driver, `the counter ${key} keeps vanishing`);
  }

  /** Adds `delta` to counters `keys` (`increment`); a counter that was missing is not left made. */
  async bump(keys: readonly string[], delta: number): Promise<void> {
    const store = this.#store;
    const { increment } = store;
    if (increment === undefined) throw new UnsupportedOperationError('tags', store.driver, 'it has no increment');
    await Promise.all(
      keys.map(async (key) => {
        const value = await this.#bound(increment.call(store, key, delta, 1000), 'invalidateTags');
        // The counter was missing (its entries read as misses already) and the increment made it:
        // removed again, so that it cannot pass for a version an entry recorded.
        if (value === delta) await this.#bound(store.delete(key), 'invalidateTags');
      }),
    );
  }
}
