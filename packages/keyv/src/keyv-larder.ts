import { EventEmitter } from 'node:events';
import { type Cache, type CacheErrorEvent, ConfigError } from '@larder/core';
import { DropScope, type NamespaceScope, namespaceScope, PrefixScope } from './namespace-scope';
import type { KeyvContract, KeyvLarderOptions } from './options';

/** One entry of Keyv's `setMany`: Keyv 5 passes a relative `ttl`, Keyv 6 an absolute `expires`. */
export interface KeyvLarderEntry {
  key: string;
  value: unknown;
  ttl?: number;
  expires?: number;
}

const STORAGE_METHODS = [
  'get',
  'getMany',
  'has',
  'hasMany',
  'set',
  'setMany',
  'delete',
  'deleteMany',
  'clear',
  'disconnect',
  'iterator',
] as const;
const ITERATOR_BATCH = 100;
/** What `#ttlMs` answers for an entry that is already expired: it is deleted instead of written. */
const EXPIRED = -1;

/**
 * A Keyv storage adapter over any larder `Cache`: cache-manager and NestJS on larder's stores,
 * with its L1, batching, timeouts and failure policy. Values go through the cache's codec (so
 * Keyv's own serialization can be switched off: see `createKeyv`). Keys of a namespace live
 * under `cache.namespace(namespace)`; the adapter applies the namespace, so Keyv 5 should be
 * told `useKeyPrefix: false` (Keyv 6 never prefixes).
 */
export class KeyvLarder extends EventEmitter {
  /**
   * What Keyv 5 reads to expose `keyv.iterator()`: it does only for an adapter with an `iterator`
   * whose `opts.dialect` is on its list of iterable adapters (sqlite, postgres, mysql, mongo,
   * redis, valkey, etcd) or whose `opts.url` names one of them. `'redis'` is that list's name for
   * a key-value store iterated by listing its keys, which is what `iterator()` does here; it does
   * not name the backend (the Cache's store is any driver). Keyv 5 reads `dialect` and `url` for
   * nothing else and Keyv 6 not at all (it asks `capabilities`, or calls `iterator()` itself).
   */
  readonly opts: { dialect: 'redis'; url: string } = { dialect: 'redis', url: '' };
  readonly #root: Cache;
  readonly #contract: KeyvContract;
  readonly #closeOnDisconnect: boolean;
  #namespace: string | undefined;
  #scope: NamespaceScope | undefined;
  #scoping: Promise<NamespaceScope> | undefined;
  #forwarding: ((event: CacheErrorEvent) => void) | undefined;

  constructor(cache: Cache, options: KeyvLarderOptions = {}) {
    super();
    const contract = options.contract ?? 5;
    if (contract !== 5 && contract !== 6) {
      throw new ConfigError(`contract must be 5 or 6, got ${String(contract)}`, 'contract');
    }
    this.#root = cache;
    this.#contract = contract;
    this.#closeOnDisconnect = options.closeOnDisconnect ?? false;
    this.#namespace = options.namespace;
    // Under onError 'miss' a failed call resolves as a miss: its error reaches Keyv only as this event.
    if (cache.onError === 'miss') {
      this.#forwarding = (event) => {
        if (this.listenerCount('error') > 0) this.emit('error', event.error);
      };
      cache.on('error', this.#forwarding);
    }
  }

  /** Keyv's namespace (Keyv assigns it); `undefined` means the whole Cache. */
  get namespace(): string | undefined {
    return this.#namespace;
  }

  set namespace(namespace: string | undefined) {
    if (namespace === this.#namespace) return;
    this.#namespace = namespace;
    this.#scope = undefined;
    this.#scoping = undefined;
  }

  /** Keyv 6 uses an adapter directly (absolute `expires`) only when this says `expires: true`; contract 5 leaves it undefined. */
  get capabilities(): Record<string, unknown> | undefined {
    if (this.#contract !== 6) return undefined;
    const methods = Object.fromEntries(
      STORAGE_METHODS.map((name) => [name, { exists: true, methodType: 'async' as const }]),
    );
    return { compatible: true, store: 'keyvStorage', methods, expires: true };
  }

  /** The value stored under `key`, or `undefined`. */
  get(key: string): Promise<unknown> {
    const scope = this.#current();
    return scope instanceof Promise ? scope.then((c) => c.get(key)) : scope.get(key);
  }

  /** Values aligned with `keys` (`undefined` for misses): one batched store call. */
  async getMany(keys: string[]): Promise<unknown[]> {
    return (await this.#current()).getMany(keys);
  }

  /** Stores `value`; the third argument is a relative TTL in ms (contract 5) or an absolute expiry time (contract 6). Resolves true. */
  set(key: string, value: unknown, ttlOrExpires?: number): Promise<boolean> {
    const ttl = this.#ttlMs(ttlOrExpires);
    const scope = this.#current();
    if (scope instanceof Promise) return scope.then((cache) => write(cache, key, value, ttl));
    return write(scope, key, value, ttl);
  }

  /** Stores every entry (one batched call per distinct TTL); resolves a `true` per entry. */
  async setMany(entries: KeyvLarderEntry[]): Promise<boolean[]> {
    const cache = await this.#current();
    const groups = new Map<number | undefined, [string, unknown][]>();
    const expired: string[] = [];
    for (const entry of entries) {
      const ttl = this.#ttlMs(this.#contract === 6 ? entry.expires : entry.ttl);
      if (ttl === EXPIRED) {
        expired.push(entry.key);
        continue;
      }
      const group = groups.get(ttl);
      if (group) group.push([entry.key, entry.value]);
      else groups.set(ttl, [[entry.key, entry.value]]);
    }
    const writes: Promise<unknown>[] = [...groups].map(([ttl, list]) => cache.setMany(list, ttl));
    if (expired.length > 0) writes.push(cache.deleteMany(expired));
    await Promise.all(writes);
    return entries.map(() => true);
  }

  /** Deletes `key`; resolves true if it existed. */
  delete(key: string): Promise<boolean> {
    const scope = this.#current();
    return scope instanceof Promise ? scope.then((cache) => cache.delete(key)) : scope.delete(key);
  }

  /**
   * Deletes the keys. Contract 5: one batched call, resolving true when every key existed (what
   * Keyv 5 does without a `deleteMany`). Contract 6: a boolean per key, so one delete per key.
   */
  async deleteMany(keys: string[]): Promise<boolean | boolean[]> {
    const cache = await this.#current();
    if (this.#contract === 6) return Promise.all(keys.map((key) => cache.delete(key)));
    if (keys.length === 0) return false;
    return (await cache.deleteMany(keys)) === new Set(keys).size;
  }

  /** True if `get` would find a value. */
  has(key: string): Promise<boolean> {
    const scope = this.#current();
    return scope instanceof Promise ? scope.then((cache) => cache.has(key)) : scope.has(key);
  }

  /** `has` of each key (gets of one tick are batched by the drivers that can). */
  async hasMany(keys: string[]): Promise<boolean[]> {
    const cache = await this.#current();
    return Promise.all(keys.map((key) => cache.has(key)));
  }

  /** Removes every key of this namespace (of the whole Cache without one), and nothing else. */
  async clear(): Promise<void> {
    await (await this.#resolveScope()).clear();
  }

  /**
   * `[key, value]` of every live key of this namespace (Keyv 5 and 6 call it for `keyv.iterator()`);
   * rejects with UnsupportedOperationError on stores that cannot list keys (memcached; DynamoDB
   * without `allowClear`).
   */
  async *iterator(): AsyncGenerator<[string, unknown], void> {
    const cache = await this.#current();
    let batch: string[] = [];
    for await (const key of cache.keys()) {
      batch.push(key);
      if (batch.length === ITERATOR_BATCH) {
        yield* live(batch, await cache.getMany(batch));
        batch = [];
      }
    }
    if (batch.length > 0) yield* live(batch, await cache.getMany(batch));
  }

  /** Stops forwarding the Cache's errors; closes the Cache too with `closeOnDisconnect`. */
  async disconnect(): Promise<void> {
    if (this.#forwarding) {
      this.#root.off('error', this.#forwarding);
      this.#forwarding = undefined;
    }
    if (this.#closeOnDisconnect) await this.#root.close();
  }

  /**
   * Keyv's third `set` argument as a larder TTL in ms: `undefined` for none (the Cache's default
   * TTL applies, else no expiry), `EXPIRED` for an entry already past its expiry. A TTL of 0 is
   * Keyv 5's "no expiry".
   */
  #ttlMs(value: number | undefined): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
    if (this.#contract === 5 && value === 0) return undefined;
    const ms = this.#contract === 6 ? value - Date.now() : value;
    return ms > 0 ? Math.ceil(ms) : EXPIRED;
  }

  #current(): Cache | Promise<Cache> {
    const scope = this.#scope;
    if (scope !== undefined) return scope.current();
    return Promise.resolve(this.#resolveScope()).then((s) => s.current());
  }

  #resolveScope(): NamespaceScope | Promise<NamespaceScope> {
    if (this.#scope !== undefined) return this.#scope;
    if (this.#scoping !== undefined) return this.#scoping;
    const namespace = this.#namespace;
    const scoping = this.#root.getStore().then(async (store) => {
      const base = namespace === undefined || namespace === '' ? this.#root : this.#root.namespace(namespace);
      const clears = typeof store.clear === 'function';
      // Without an L1, a store that clears by prefix clears the namespace so (as keyv's own
      // adapters do): its reads and writes cost what plain ones do, where a scope's tagged ones
      // cost about 3× on Redis (the tag scripts; README "clear"). With an L1 (every instance's
      // copies must go, behind the barrier; tracking makes scoped writes plain SETs) or on a store
      // that cannot clear, the scope (every cache can tag: `taggable()` is always true).
      const scope =
        (await this.#root.hasL1()) || !clears
          ? new DropScope(base, namespaceScope(base), clears)
          : new PrefixScope(base);
      // A namespace change meanwhile started another lookup: this one is stale.
      if (this.#scoping === scoping) this.#scope = scope;
      return scope;
    });
    this.#scoping = scoping;
    return scoping;
  }
}

const stored = (): boolean => true;

/** One Keyv `set`: an entry already past its expiry is deleted instead of written. */
function write(cache: Cache, key: string, value: unknown, ttl: number | undefined): Promise<boolean> {
  return (ttl === EXPIRED ? cache.delete(key) : cache.set(key, value, ttl)).then(stored);
}

function* live(keys: string[], values: unknown[]): Generator<[string, unknown]> {
  for (let i = 0; i < keys.length; i++) {
    const value = values[i];
    if (value !== undefined) yield [keys[i] as string, value];
  }
}
