import { Cache } from '../cache/cache';
import { type DriverImporter, loadPackageDriver, loadSourceDriver } from '../config/driver-loading';
import {
  checkDriverSource,
  type DriverSource,
  driverNames,
  registeredDriver,
  registeredDrivers,
} from '../config/driver-registry';
import {
  BUILTIN_DRIVERS,
  type CommonStoreOptions,
  customDriver,
  type ManagerConfig,
  type StoreConfig,
  type StoreOrConfig,
} from '../config/store-config';
import { ConfigError, DriverNotFoundError } from '../contract/errors';
import type { CacheStore, DriverContext, DriverFactory } from '../contract/store';

export { BUILTIN_DRIVERS, type ManagerConfig } from '../config/store-config';

/** Prefix of every store that sets none, when the config sets none either. */
export const DEFAULT_PREFIX = 'larder:';

export type { DriverImporter } from '../config/driver-loading';

/** Options of `createCacheManager` besides the config. */
export interface CacheManagerOptions {
  /** Environment handed to driver factories. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** How built-in driver packages are loaded. @default found from the app (`root`), then from core */
  importDriver?: DriverImporter;
  /** The app's folder, where built-in driver packages are looked for. @default the working directory, then the main script */
  root?: string;
}

/**
 * The registry of named stores (Laravel's `CacheManager`). Each store is built once, on first
 * use, by its driver: a factory registered with `extend()`, else a built-in driver package.
 */
export class CacheManager {
  /** The config this manager was created with. */
  readonly config: Readonly<ManagerConfig>;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #importDriver: DriverImporter | undefined;
  readonly #root: string | undefined;
  readonly #listed = new Map<string, DriverSource>();
  readonly #extensions = new Map<string, DriverFactory<never>>();
  readonly #stores = new Map<string, Promise<CacheStore>>();
  readonly #caches = new Map<string, Cache>();
  readonly #sessionCaches = new Map<string, Cache>();
  #closed = false;

  constructor(config: ManagerConfig = {}, options: CacheManagerOptions = {}) {
    if (config === null || typeof config !== 'object') {
      throw new ConfigError('createCacheManager(config) needs an object', 'config');
    }
    const stores = config.stores ?? {};
    for (const [name, store] of Object.entries(stores)) {
      if (store === null || typeof store !== 'object' || (!isCacheStore(store) && typeof store.driver !== 'string')) {
        throw new ConfigError(
          `Store '${name}' needs a 'driver' name (or must be a ready CacheStore)`,
          `stores.${name}`,
        );
      }
    }
    for (const [index, source] of (config.drivers ?? []).entries()) {
      checkDriverSource(source, `drivers[${index}]`);
      for (const name of driverNames(source)) this.#listed.set(name, source);
    }
    this.config = config;
    this.#env = options.env ?? process.env;
    this.#importDriver = options.importDriver;
    this.#root = options.root;
  }

  /** Returns the `Cache` of a named store (default: `config.default`, else `memory`), built once and reused. */
  store(name?: string): Cache {
    const storeName = name ?? this.config.default ?? 'memory';
    let cache = this.#caches.get(storeName);
    if (!cache) {
      cache = this.#build(storeName);
      this.#caches.set(storeName, cache);
    }
    return cache;
  }

  /**
   * Returns the `Cache` sessions use (`config.sessionStore`, else the default store): a view of
   * that store's cache (`withOptions`: the same connection, L1, events and stats) that always
   * fails closed (`onError: 'throw'`): a lost session write is a logged-out user.
   */
  sessionStore(): Cache {
    const storeName = this.config.sessionStore ?? this.config.default ?? 'memory';
    let cache = this.#sessionCaches.get(storeName);
    if (!cache) {
      cache = this.store(storeName).withOptions({ onError: 'throw' });
      this.#sessionCaches.set(storeName, cache);
    }
    return cache;
  }

  /**
   * Registers a custom driver (Laravel's `Cache::extend`): stores whose `driver` is `name` are
   * built by `factory`. A name of a built-in driver replaces it for stores not built yet.
   */
  extend<C = Record<string, unknown>>(name: string, factory: DriverFactory<C>): this {
    if (typeof name !== 'string' || name === '')
      throw new ConfigError('extend(name, factory) needs a driver name', 'name');
    if (typeof factory !== 'function') {
      throw new ConfigError(`extend('${name}', factory) needs a factory function`, 'factory');
    }
    this.#extensions.set(name, factory as DriverFactory<never>);
    return this;
  }

  /** Driver names this manager can build: `extend()`ed, listed in `drivers`, registered, and built-in ones. */
  drivers(): string[] {
    const registered = registeredDrivers().flatMap((source) => driverNames(source));
    return [
      ...new Set([...this.#extensions.keys(), ...this.#listed.keys(), ...registered, ...Object.keys(BUILTIN_DRIVERS)]),
    ];
  }

  /** Store names `store()` accepts: configured ones, plus every driver name (usable with no config). */
  storeNames(): string[] {
    return [...new Set([...Object.keys(this.config.stores ?? {}), ...this.drivers()])];
  }

  /** Closes every store this manager built (ready stores passed in the config belong to the caller). */
  async close(): Promise<void> {
    this.#closed = true;
    // The L1s' invalidation connections belong to the caches this manager built (session views share them).
    const caches = [...this.#caches.values()];
    await Promise.allSettled(caches.map((cache) => cache.closeL1()));
    const built = [...this.#stores.entries()].filter(([name]) => !isCacheStore(this.config.stores?.[name]));
    this.#stores.clear();
    this.#caches.clear();
    this.#sessionCaches.clear();
    const results = await Promise.allSettled(
      built.map(async ([, pending]) => {
        let store: CacheStore;
        try {
          store = await pending;
        } catch {
          return; // never built: nothing to close
        }
        await store.close?.();
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #build(storeName: string): Cache {
    if (this.#closed) throw new ConfigError('This CacheManager is closed', 'manager');
    const entry = this.#storeConfig(storeName);
    const options: CommonStoreOptions = isCacheStore(entry) ? {} : entry;
    const ttl = options.ttl ?? this.config.ttl;
    return new Cache({
      store: this.#storePromise(storeName, entry),
      name: storeName,
      // Known before the store is built: the first operations' traces name it.
      driver: entry.driver,
      prefix: options.prefix ?? this.config.prefix ?? DEFAULT_PREFIX,
      ...(ttl === undefined ? {} : { ttl }),
      ...(options.codec ? { codec: options.codec } : {}),
      ...(options.compress === undefined ? {} : { compress: options.compress }),
      ...(options.encrypt === undefined ? {} : { encrypt: options.encrypt }),
      ...(options.maxValueBytes === undefined ? {} : { maxValueBytes: options.maxValueBytes }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.traceKeys === true ? { traceKeys: true } : {}),
      ...(options.l1 === undefined ? {} : { l1: options.l1 }),
      ...(options.breaker === true ? { breaker: true } : {}),
      ...(options.remember === undefined ? {} : { remember: options.remember }),
      onError: options.onError ?? 'throw',
    });
  }

  #storeConfig(storeName: string): StoreOrConfig {
    const configured = this.config.stores?.[storeName];
    if (configured) return configured;
    // A store named like a driver needs no entry: `memory` always works.
    if (this.drivers().includes(storeName)) return { driver: customDriver(storeName) };
    const names = Object.keys(this.config.stores ?? {});
    throw new ConfigError(
      `Cache store '${storeName}' is not configured. Configured stores: ${names.join(', ') || '(none)'}; ` +
        `driver names usable as stores: ${this.drivers().join(', ')}`,
      storeName,
    );
  }

  #storePromise(storeName: string, entry: StoreOrConfig): Promise<CacheStore> {
    const existing = this.#stores.get(storeName);
    if (existing) return existing;
    let pending: Promise<CacheStore>;
    if (isCacheStore(entry)) {
      pending = Promise.resolve(entry);
    } else {
      const factory = this.#factory(entry.driver);
      const context: DriverContext = { storeName, env: this.#env };
      // `maxValueBytes` in a store config is the value pipeline's ceiling (values above the driver's
      // item limit are chunked): the driver keeps its own item limit, the size of a chunk.
      const { maxValueBytes: _ceiling, ...driverConfig } = entry;
      pending = factory.then((make) => make(driverConfig as StoreConfig, context));
      // A store that failed to build is built again by the next store() call.
      pending.catch(() => {
        if (this.#stores.get(storeName) === pending) {
          this.#stores.delete(storeName);
          this.#caches.delete(storeName);
          this.#sessionCaches.delete(storeName);
        }
      });
    }
    this.#stores.set(storeName, pending);
    return pending;
  }

  /**
   * Resolves the driver's factory, in order: `extend()`, the config's `drivers`, this manager's
   * `importDriver` (for built-in names), `registerDriver`, then the built-in package found from the
   * app: what is given to this manager wins over what is registered for the process. Unknown names
   * throw at once, missing packages reject.
   */
  #factory(driver: string): Promise<DriverFactory<StoreConfig>> {
    const extension = this.#extensions.get(driver);
    if (extension) return Promise.resolve(extension as DriverFactory<StoreConfig>);
    const listed = this.#listed.get(driver);
    if (listed) return loadSourceDriver(listed, `driver '${driver}'`) as Promise<DriverFactory<StoreConfig>>;
    const packageName = BUILTIN_DRIVERS[driver];
    const registered = this.#importDriver && packageName !== undefined ? undefined : registeredDriver(driver);
    if (registered) return loadSourceDriver(registered, `driver '${driver}'`) as Promise<DriverFactory<StoreConfig>>;
    if (packageName === undefined) throw new DriverNotFoundError(driver, this.drivers());
    return loadPackageDriver(driver, packageName, {
      importDriver: this.#importDriver,
      root: this.#root,
      registered: this.drivers(),
    }) as Promise<DriverFactory<StoreConfig>>;
  }
}

/** Creates a `CacheManager` (see `configFromEnv` to build the config from environment variables). */
export function createCacheManager(config: ManagerConfig = {}, options: CacheManagerOptions = {}): CacheManager {
  return new CacheManager(config, options);
}

/** True for a ready `CacheStore` (rather than a store config). */
export function isCacheStore(value: unknown): value is CacheStore {
  const store = value as CacheStore | undefined;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.get === 'function' &&
    typeof store.set === 'function' &&
    typeof store.capabilities === 'object'
  );
}
