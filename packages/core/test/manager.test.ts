import { createMemoryStore, MemoryStore } from '@larder/memory';
import { describe, expect, it, vi } from 'vitest';
import { Cache } from '../src/cache/cache';
import { configFromEnv } from '../src/config/config-from-env';
import { customDriver } from '../src/config/store-config';
import { ConfigError, DriverNotFoundError } from '../src/contract/errors';
import type { CacheStore } from '../src/contract/store';
import { BUILTIN_DRIVERS, createCacheManager } from '../src/manager/manager';

function moduleNotFound(name: string): Error {
  return Object.assign(
    new Error(`Cannot find package '${name}' imported from /app/node_modules/@larder/core/dist/index.js`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  );
}

describe('CacheManager', () => {
  it("serves 'memory' with no config, through the lazily imported @larder/memory", async () => {
    const caches = createCacheManager();
    const cache = caches.store();
    expect(cache).toBeInstanceOf(Cache);
    expect(cache.name).toBe('memory');
    expect(cache.prefix).toBe('larder:');
    await cache.set('k', { a: 1 });
    expect(await cache.get('k')).toEqual({ a: 1 });
    expect(await cache.getStore()).toBeInstanceOf(MemoryStore);
    expect(caches.store('memory')).toBe(cache);
    await caches.close();
  });

  it('builds named stores once, with the manager prefix and TTL as defaults', async () => {
    const importDriver = vi.fn((name: string) => import(/* @vite-ignore */ name));
    const caches = createCacheManager(
      {
        default: 'main',
        prefix: 'app:',
        ttl: '1h',
        stores: {
          main: { driver: 'memory', maxEntries: 5 },
          other: { driver: 'memory', prefix: 'other:', ttl: 50 },
        },
      },
      { importDriver },
    );
    const main = caches.store();
    expect(main.name).toBe('main');
    expect(main.prefix).toBe('app:');
    expect(caches.store('main')).toBe(main);
    expect(((await main.getStore()) as MemoryStore).options.maxEntries).toBe(5);
    const other = caches.store('other');
    expect(other.prefix).toBe('other:');
    expect(await other.getStore()).not.toBe(await main.getStore());
    expect(importDriver).toHaveBeenCalledWith('@larder/memory');

    // TTLs: 'other' expires its writes after 50ms, 'main' keeps them an hour.
    await other.set('t', 1);
    await main.set('t', 1);
    await vi.waitFor(async () => expect(await other.get('t')).toBeUndefined(), { timeout: 2000, interval: 10 });
    expect(await main.get('t')).toBe(1);
    await caches.close();
  });

  it('accepts a ready CacheStore and leaves closing it to the caller', async () => {
    const store = createMemoryStore();
    const close = vi.spyOn(store, 'close');
    const caches = createCacheManager({ stores: { mine: store } });
    expect(await caches.store('mine').getStore()).toBe(store);
    await caches.close();
    expect(close).not.toHaveBeenCalled();
  });

  it('closes every store it built', async () => {
    const closed: string[] = [];
    const caches = createCacheManager({
      stores: { a: { driver: customDriver('custom') }, b: { driver: customDriver('custom') } },
    });
    caches.extend('custom', (_config, context) => {
      const store = createMemoryStore();
      store.close = async () => {
        closed.push(context.storeName);
      };
      return store;
    });
    await caches.store('a').set('x', 1);
    await caches
      .sessionStore()
      .getStore()
      .catch(() => undefined);
    await caches.store('b').get('x');
    await caches.close();
    expect(closed.sort()).toEqual(['a', 'b']);
    expect(() => caches.store('a')).toThrow(/closed/);
  });

  it('extend() registers custom drivers with their config and context', async () => {
    const factory = vi.fn((_config: { driver: string; size?: number }, _context: unknown) => createMemoryStore());
    const caches = createCacheManager(
      { stores: { special: { driver: customDriver('my-driver'), size: 3 } } },
      { env: { FOO: 'bar' } },
    ).extend('my-driver', factory);
    await caches.store('special').set('k', 'v');
    expect(factory).toHaveBeenCalledTimes(1);
    expect(factory.mock.calls[0]?.[0]).toMatchObject({ driver: customDriver('my-driver'), size: 3 });
    expect(factory.mock.calls[0]?.[1]).toEqual({ storeName: 'special', env: { FOO: 'bar' } });
    // A store named like the driver needs no config entry.
    await caches.store('my-driver').set('k', 'v');
    expect(factory).toHaveBeenCalledTimes(2);
    expect(caches.drivers()).toContain('my-driver');
    expect(caches.storeNames()).toEqual(expect.arrayContaining(['special', 'my-driver', 'memory', 'redis']));
  });

  it('extend() can replace a built-in driver', async () => {
    const store = createMemoryStore();
    const caches = createCacheManager().extend('memory', () => store);
    expect(await caches.store().getStore()).toBe(store);
  });

  it('an async factory works', async () => {
    const caches = createCacheManager({ default: 'slow', stores: { slow: { driver: customDriver('slow') } } });
    caches.extend('slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return createMemoryStore();
    });
    await caches.store().set('a', 1);
    expect(await caches.store().get('a')).toBe(1);
  });

  it('sessionStore() uses sessionStore, else default, and always fails closed', async () => {
    const failing: CacheStore = {
      driver: 'failing',
      capabilities: createMemoryStore().capabilities,
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
    };
    const caches = createCacheManager({
      default: 'main',
      sessionStore: 'sessions',
      stores: {
        main: { driver: customDriver('failing'), onError: 'miss' },
        sessions: { driver: customDriver('failing'), onError: 'miss' },
      },
    }).extend('failing', () => failing);
    expect(await caches.store().get('k')).toBeUndefined();
    const sessions = caches.sessionStore();
    expect(sessions.name).toBe('sessions');
    await expect(sessions.get('k')).rejects.toThrow(/down/);
    expect(caches.sessionStore()).toBe(sessions);

    const fallback = createCacheManager({
      default: 'main',
      stores: { main: { driver: customDriver('failing'), onError: 'miss' } },
    });
    fallback.extend('failing', () => failing);
    expect(fallback.sessionStore().name).toBe('main');
    expect(fallback.sessionStore()).not.toBe(fallback.store());
    await expect(fallback.sessionStore().get('k')).rejects.toThrow(/down/);
  });

  it('the session cache shares the store (one connection) with store()', async () => {
    const factory = vi.fn(() => createMemoryStore());
    const caches = createCacheManager({ default: 'x', stores: { x: { driver: customDriver('f') } } }).extend(
      'f',
      factory,
    );
    await caches.store().set('shared', 1);
    expect(await caches.sessionStore().get('shared')).toBe(1);
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it('an unknown store name is a ConfigError listing the configured stores', () => {
    const caches = createCacheManager({ stores: { main: { driver: 'memory' }, sessions: { driver: 'memory' } } });
    let error: unknown;
    try {
      caches.store('mian');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/'mian' is not configured\. Configured stores: main, sessions/);
    expect(() => createCacheManager({ default: 'nope' }).store()).toThrow(ConfigError);
  });

  it('an unknown driver is a DriverNotFoundError listing the known drivers', () => {
    const caches = createCacheManager({ stores: { x: { driver: customDriver('mongo') } } }).extend('mine', () =>
      createMemoryStore(),
    );
    let error: unknown;
    try {
      caches.store('x');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DriverNotFoundError);
    expect((error as DriverNotFoundError).registered).toEqual(['mine', ...Object.keys(BUILTIN_DRIVERS)]);
    expect((error as Error).message).toMatch(
      /Driver 'mongo' is not available\. Registered drivers: mine, memory, redis/,
    );
  });

  it('a missing driver package is a DriverNotFoundError naming the package to install', async () => {
    const caches = createCacheManager(
      { default: 'redis' },
      { importDriver: (name) => Promise.reject(moduleNotFound(name)) },
    );
    const cache = caches.store();
    const error = await cache.get('k').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DriverNotFoundError);
    expect((error as Error).message).toMatch(/Install it with: npm install @larder\/redis/);
    expect((error as DriverNotFoundError).packageName).toBe('@larder/redis');
    expect((error as Error).message).toMatch(/Registered drivers: memory, redis, memcached, elasticache, dynamodb/);
  });

  it('a missing peer dependency of a driver names that dependency', async () => {
    const caches = createCacheManager(
      { default: 'redis' },
      { importDriver: () => Promise.reject(moduleNotFound('ioredis')) },
    );
    const error = await caches
      .store()
      .get('k')
      .catch((caught: unknown) => caught);
    expect((error as DriverNotFoundError).packageName).toBe('ioredis');
  });

  it('a driver package installed without its build is reported as that package', async () => {
    const caches = createCacheManager(
      { default: 'redis' },
      {
        importDriver: () => Promise.reject(moduleNotFound('/app/node_modules/@larder/redis/dist/index.js')),
      },
    );
    const error = await caches
      .store()
      .get('k')
      .catch((caught: unknown) => caught);
    expect((error as DriverNotFoundError).packageName).toBe('@larder/redis');
  });

  it('other load errors of a driver package pass through unchanged', async () => {
    const broken = new SyntaxError('Unexpected token');
    const caches = createCacheManager({ default: 'redis' }, { importDriver: () => Promise.reject(broken) });
    expect(
      await caches
        .store()
        .get('k')
        .catch((caught: unknown) => caught),
    ).toBe(broken);
  });

  it('maps elasticache and memcached to @larder/memcached', async () => {
    const seen: string[] = [];
    const caches = createCacheManager(
      { stores: { e: { driver: 'elasticache' }, m: { driver: 'memcached' }, d: { driver: 'dynamodb' } } },
      {
        importDriver: async (name) => {
          seen.push(name);
          return { larderDriver: () => createMemoryStore() };
        },
      },
    );
    await Promise.all(['e', 'm', 'd'].map((name) => caches.store(name).get('k')));
    expect(seen).toEqual(['@larder/memcached', '@larder/memcached', '@larder/dynamodb']);
  });

  it('a package without larderDriver is reported', async () => {
    const caches = createCacheManager({}, { importDriver: async () => ({}) });
    await expect(caches.store().get('k')).rejects.toThrow(DriverNotFoundError);
  });

  it('a store that failed to build is built again on the next store() call', async () => {
    let attempts = 0;
    const caches = createCacheManager({
      default: 'flaky',
      stores: { flaky: { driver: customDriver('flaky') } },
    }).extend('flaky', () => {
      attempts++;
      if (attempts === 1) throw new Error('connect refused');
      return createMemoryStore();
    });
    const first = caches.store();
    await expect(first.get('k')).rejects.toThrow(/connect refused/);
    const second = caches.store();
    expect(second).not.toBe(first);
    await second.set('k', 1);
    expect(await second.get('k')).toBe(1);
  });

  it('validates the config shape', () => {
    expect(() => createCacheManager({ stores: { x: {} as never } })).toThrow(/'x' needs a 'driver'/);
  });

  it('works with configFromEnv', async () => {
    const caches = createCacheManager(configFromEnv({ CACHE_PREFIX: 'env:', CACHE_TTL: '10m' }));
    const cache = caches.store();
    expect(cache.name).toBe('memory');
    expect(cache.prefix).toBe('env:');
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(caches.sessionStore().name).toBe('memory');
    await caches.close();
  });
});
