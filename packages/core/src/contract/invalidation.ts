/** How an L1 learns that other writers changed keys (docs/architecture.md "Two tiers"). */
export type InvalidationMode = 'tracking' | 'bus' | 'none';

/**
 * Which writes tracking reports to an instance: `broadcast`, every write under the store prefix
 * (`BCAST`); `readers`, only writes of keys this instance read (Redis's default tracking), plus the
 * fleet's fences and tag counters, which every instance hears.
 */
export type TrackingMode = 'broadcast' | 'readers';

/** What an invalidation source tells its L1. */
export interface InvalidationHandlers {
  /**
   * These full keys changed somewhere: drop them. `local`: a write through the same store in this
   * process (a store that tells this process's L1s itself, e.g. Redis tracking under NOLOOP); the
   * cache that wrote expects that one echo of its own write and still keeps what it wrote.
   */
  onKeys(keys: readonly string[], local?: boolean): void;
  /** Everything may have changed (a server `FLUSHALL`, a prefix cleared elsewhere): drop all, or the keys under `prefix`. */
  onFlush(prefix?: string): void;
  /** The channel is up (`true`: invalidations flow) or down (`false`: the L1 flushes and is bypassed until it is up). */
  onState(up: boolean): void;
}

/** What a write tells other instances through a source that needs publishing (the bus). */
export type InvalidationMessage = { keys: readonly string[] } | { prefix: string };

/**
 * A channel of invalidations, provided by a driver (`CacheStore.invalidation`) or by the bus
 * package, so core never imports a backend client.
 */
export interface InvalidationSource {
  /** `tracking` or `bus`. */
  readonly mode: InvalidationMode;
  /** Starts delivering; `onState(true)` once invalidations flow. */
  start(handlers: InvalidationHandlers): void;
  /**
   * True when the channel reports only writes of keys this instance read (`readers` tracking): a
   * value it wrote itself is then not kept in its L1, since it would hear of no later write of it.
   */
  readonly tracksReads?: boolean;
  /** Tells other instances (bus only; tracking needs no publish: the server sees every write). Never throws; a failed publish turns the state down. */
  publish?(message: InvalidationMessage): void;
  /**
   * The store on the channel's own server where the L1 fleet keeps its state (leases, the registry,
   * acknowledgements) instead of the cache's store (the bus: its Redis, so a memcached or DynamoDB
   * store sees no write from an idle instance). Asked each time the fleet uses it (from when the
   * channel is up); `undefined`: the cache's store.
   */
  fleetStore?(): FleetBackend | undefined;
  /** Stops and releases connections and timers. */
  close(): Promise<void>;
}

/** Options a driver receives in `CacheStore.invalidation(mode, options)`. */
export interface InvalidationOptions {
  /** The store prefix: tracking watches keys under it (`BCAST PREFIX`). */
  readonly prefix: string;
  /** Bus URL (`CACHE_BUS_URL`), for `bus`. */
  readonly busUrl?: string;
  /** With `tracking`: which writes are reported (`l1.tracking`). @default 'broadcast' */
  readonly tracking?: TrackingMode;
  /** Store name (topology events, channel name). */
  readonly store: string;
}

/**
 * What the L1 fleet needs of a store (`CacheStore`'s own methods; spelt out here, the contract's
 * lowest file): get, a batch get when it has one, set, an atomic compare-and-set and delete.
 * Values are `Payload`s (`string | Uint8Array`), TTLs milliseconds (`undefined`: none).
 */
export interface FleetBackend {
  readonly driver?: string;
  /** The cache's own store under other key names (tracking on a Redis Cluster: the quiet keys in one slot), not a channel's. */
  readonly inCacheStore?: boolean;
  get(key: string): Promise<string | Uint8Array | undefined>;
  getMany?(keys: readonly string[]): Promise<(string | Uint8Array | undefined)[]>;
  set(key: string, payload: string | Uint8Array, ttlMs: number | undefined): Promise<void>;
  compareAndSet(
    key: string,
    expected: string | Uint8Array | undefined,
    payload: string | Uint8Array,
    ttlMs: number | undefined,
  ): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /**
   * The fleet's registry as a set, when the store has one (Redis: SADD, SREM, SMEMBERS, on the
   * primary): an instance joins or leaves in one command, never a compare-and-set retried against
   * every other instance joining at once (a rolling deploy). Without them: one key rewritten with
   * `compareAndSet`.
   */
  addMember?(key: string, id: string): Promise<void>;
  removeMembers?(key: string, ids: readonly string[]): Promise<void>;
  listMembers?(key: string): Promise<string[]>;
}
