import type { Ttl } from '@larder/core';
import type { CacheStore, StoreCapabilities } from '@larder/core/driver';

/**
 * What a test can depend on: an optional method of the store (`increment`, `enumerate` = `keys`,
 * `clear`, `storeCompareAndSet` = `compareAndSet`: its presence is the capability), or `atomicAdd` (an `add` the store declares atomic).
 */
export type Capability = 'atomicAdd' | 'increment' | 'enumerate' | 'clear' | 'storeCompareAndSet';

/** Every capability name, in table order. */
export const CAPABILITIES: readonly Capability[] = [
  'atomicAdd',
  'increment',
  'enumerate',
  'clear',
  'storeCompareAndSet',
];

/** The store method each capability but `atomicAdd` is. */
export const CAPABILITY_METHODS = {
  increment: 'increment',
  enumerate: 'keys',
  clear: 'clear',
  storeCompareAndSet: 'compareAndSet',
} as const satisfies Record<Exclude<Capability, 'atomicAdd'>, keyof CacheStore>;

/** Test groups of the suite; each can be skipped as a whole (see the README table). */
export type Group =
  | 'capabilities'
  | 'basic'
  | 'many'
  | 'add'
  | 'counters'
  | 'largeCounters'
  | 'touch'
  | 'remember'
  | 'namespace'
  | 'keys'
  | 'values'
  | 'isolation'
  | 'largeValues'
  | 'chunkedValues'
  | 'hostileValues'
  | 'ttl'
  | 'defaultTtl'
  | 'atomicity'
  | 'locks'
  | 'compareAndSet'
  | 'rememberNeverStale'
  | 'tags'
  | 'clear'
  | 'badInputs'
  | 'stats'
  | 'model';

/** Every group name, in run order. */
export const GROUPS: readonly Group[] = [
  'capabilities',
  'basic',
  'many',
  'add',
  'counters',
  'largeCounters',
  'touch',
  'remember',
  'namespace',
  'keys',
  'values',
  'isolation',
  'largeValues',
  'hostileValues',
  'ttl',
  'defaultTtl',
  'atomicity',
  'locks',
  'compareAndSet',
  'rememberNeverStale',
  'tags',
  'clear',
  'badInputs',
  'stats',
  'model',
  // Last: its megabytes of chunks (kept until their TTL after overwrites) would slow the Scans of
  // the groups after it on DynamoDB.
  'chunkedValues',
];

/** Facade options the suite sets on some caches (the default-TTL tests). Spread them into `new Cache({...})`. */
export interface CacheOverrides {
  /** Default TTL of the cache. */
  ttl?: Ttl;
  /** The value pipeline's ceiling (the `chunkedValues` group): values above the driver's item limit are chunked. */
  maxValueBytes?: number | `${number}mb`;
}

/** A test body as the runner sees it; extra arguments are the runner's test context. */
export type TestBody = (...args: unknown[]) => Promise<void>;

/** `it`/`test` of any runner: vitest, jest, node:test, mocha. */
export interface ItFunction {
  // biome-ignore lint/suspicious/noExplicitAny: runners' `it` signatures differ in their extra parameters.
  (name: string, fn: TestBody, timeout?: number): any;
  /** Registers a skipped test; used when present so the skip shows in the runner's output. */
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  skip?: (name: string, fn: TestBody) => any;
}

/** `describe` of any runner. */
// biome-ignore lint/suspicious/noExplicitAny: runners' `describe` return types differ.
export type DescribeFunction = (name: string, fn: () => void) => any;

/** `beforeAll`/`afterAll` (mocha: `before`/`after`; node:test: `before`/`after`). */
// biome-ignore lint/suspicious/noExplicitAny: runners' hook signatures differ.
export type HookFunction = (fn: () => Promise<void>) => any;

/**
 * The lock as the suite uses it (the facade's `Lock`). Declared here, not imported, so the suite
 * states exactly the surface it checks.
 */
export interface LockUnderTest {
  /** Full key of the lock. */
  readonly key: string;
  /** Owner token. */
  readonly owner: string;
  /** Tries once; true if this owner now holds the lock. */
  acquire(): Promise<boolean>;
  /** Waits up to `wait` for the lock; rejects with `LockTimeoutError`. */
  block(wait: Ttl): Promise<void>;
  /** Releases if this owner holds it; true if released. */
  release(): Promise<boolean>;
}

/** Counters from `cache.stats()`. */
export interface StatsUnderTest {
  hits: number;
  misses: number;
  writes: number;
  deletes: number;
  errors: number;
}

/** The facade surface the suite checks (the `Cache` of `@larder/core`). */
export interface CacheUnderTest {
  get<T = unknown>(key: string): Promise<T | undefined>;
  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]>;
  set(key: string, value: unknown, ttl?: Ttl): Promise<void>;
  setMany(entries: Record<string, unknown> | Iterable<readonly [string, unknown]>, ttl?: Ttl): Promise<void>;
  add(key: string, value: unknown, ttl?: Ttl): Promise<boolean>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  deleteMany(keys: readonly string[]): Promise<number>;
  pull<T = unknown>(key: string): Promise<T | undefined>;
  increment(key: string, by?: number, ttl?: Ttl): Promise<number>;
  decrement(key: string, by?: number, ttl?: Ttl): Promise<number>;
  touch(key: string, ttl?: Ttl): Promise<boolean>;
  forever(key: string, value: unknown): Promise<void>;
  remember<T>(
    key: string,
    ttl: Ttl | undefined,
    loader: () => T | Promise<T>,
    options?: { grace?: Ttl; lock?: boolean | { ttl?: Ttl; wait?: Ttl }; tags?: readonly string[] },
  ): Promise<T>;
  /** `remember`, resolving how it answered (the `tags` group reads `status`, the `remember` group a hit's `ageMs`). */
  rememberWithStatus?<T>(
    key: string,
    ttl: Ttl | undefined,
    loader: () => T | Promise<T>,
    options?: { grace?: Ttl; tags?: readonly string[] },
  ): Promise<{ value: T; status: 'hit' | 'miss' | 'graced'; ageMs?: number | undefined }>;
  /** A view whose writes carry `tags` (the `tags` group; a cache without it skips the group). */
  tags?(tags: readonly string[]): CacheUnderTest;
  /** Invalidates the entries carrying `tags`, hard or `soft`. */
  invalidateTags?(tags: readonly string[], options?: { soft?: boolean }): Promise<void>;
  /** A view whose writes carry the scope `name`, with `drop()` invalidating them all (the `tags` group's scope case; skipped without it). */
  scope?(name: string): CacheUnderTest & { drop(): Promise<void> };
  rememberForever<T>(key: string, loader: () => T | Promise<T>): Promise<T>;
  lock(name: string, ttl: Ttl): LockUnderTest;
  withLock<T>(name: string, ttl: Ttl, fn: () => T | Promise<T>, options?: { wait?: Ttl }): Promise<T>;
  namespace(name: string): CacheUnderTest;
  clear(): Promise<void>;
  keys(): AsyncIterable<string>;
  // biome-ignore lint/suspicious/noExplicitAny: listener arguments differ per event.
  on(event: 'hit' | 'miss' | 'write' | 'delete' | 'error', listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  off(event: 'hit' | 'miss' | 'write' | 'delete' | 'error', listener: (...args: any[]) => void): unknown;
  stats(): StatsUnderTest;
  getStore(): Promise<CacheStore>;
}

/** Options of `runConformanceSuite`. */
export interface ConformanceOptions {
  /** Shown as the top-level `describe` (e.g. `redis (cluster)`). */
  name: string;
  /**
   * Returns a `Cache` with this key prefix over the driver's real backend. Every call must reach the
   * same data (share one store, or one server), so that caches with different prefixes see each
   * other's backend. Called several times per test: build a light `new Cache({ store, prefix, ...overrides })`
   * over a store opened once. The suite never closes these caches; close the store in your own `afterAll`.
   */
  createCache(prefix: string, overrides?: CacheOverrides): CacheUnderTest | Promise<CacheUnderTest>;
  /** The runner's `describe`. */
  describe: DescribeFunction;
  /** The runner's `it` (or `test`); `it.skip` is used for skips when present. */
  it: ItFunction;
  /** The runner's `beforeAll` (mocha/node:test: `before`); used to read the capabilities once. */
  beforeAll?: HookFunction;
  /** The runner's `afterAll` (mocha/node:test: `after`); used to clear the suite's prefixes where the store can. */
  afterAll?: HookFunction;
  /**
   * Groups or capabilities to skip, each with the reason, which must name the missing capability,
   * e.g. `{ clear: 'memcached has no clear: it cannot delete keys by prefix' }`. A capability skip (the
   * methods `clear`, `enumerate` (`keys`), `increment`, or `atomicAdd`) skips every test that needs it, and
   * the suite checks that the store really lacks that method (`atomicAdd`: declares it `false` or has no `add`).
   */
  skip?: Partial<Record<Capability | Group, string>>;
  /**
   * Documented limits of the driver, each with its reason, which the suite then allows (and only
   * that). `counterExpiry`: an `increment` the driver runs as a read-modify-write gives the counter
   * the call's TTL instead of keeping its expiry (memcached: a negative delta or value, since its
   * binary protocol cannot report an item's remaining TTL). `touchHeader`: `touch` moves only the
   * store's expiry, and an entry's metadata header keeps the expiry it was written with, which the
   * first `increment` of a number `set` wrote then keeps (a store without `compareAndSet`, where
   * the facade cannot rewrite the header safely).
   */
  limits?: { counterExpiry?: string; touchHeader?: string };
  /** Timing knobs. */
  timing?: {
    /** Expiry precision to test at. @default store.capabilities.ttlPrecisionMs */
    ttlPrecisionMs?: number;
  };
  /** Per-test timeout passed as the third argument of `it` (vitest, jest) or to `this.timeout()` (mocha). */
  timeout?: number;
  /** Prepended to every prefix the suite creates. @default 'larder-conformance:' */
  prefix?: string;
}

/** What a test body gets. */
export interface SuiteContext {
  /** A cache under a fresh unique prefix (so tests never share keys). */
  cache(overrides?: CacheOverrides): Promise<CacheUnderTest>;
  /** A cache under exactly this prefix. */
  cacheAt(prefix: string, overrides?: CacheOverrides): Promise<CacheUnderTest>;
  /** A fresh unique prefix ending with ':'. */
  uniquePrefix(): string;
  /** The store's capabilities. */
  capabilities(): Promise<StoreCapabilities>;
  /** The store's driver name. */
  driver(): Promise<string>;
  /** Expiry precision in ms (option, else capabilities). */
  precisionMs(): Promise<number>;
  /** Marks the running test skipped with this reason (where the runner allows) and stops it. */
  skip(reason: string): never;
  /** The `skip` map of the options. */
  readonly skips: Partial<Record<Capability | Group, string>>;
  /** The `limits` of the options. */
  readonly limits: NonNullable<ConformanceOptions['limits']>;
}
