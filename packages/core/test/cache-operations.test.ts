import { Cache, ConfigError, DriverNotFoundError, UnsupportedOperationError } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { bodyOf } from '../src/values/entry-format';

const setup = (options: Parameters<typeof createChaosStore>[0] = {}, prefix = 'app:') => {
  const store = createChaosStore(options);
  const cache = new Cache({ store, prefix });
  return { store, cache };
};

describe('Cache operations', () => {
  it('get/set/delete with the prefix applied', async () => {
    const { store, cache } = setup();
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('a', { n: 1 });
    expect(await cache.get('a')).toEqual({ n: 1 });
    expect(bodyOf((await store.get('app:a')) as string)).toBe('{"n":1}');
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    expect(await cache.get('a')).toBeUndefined();
  });

  it('expires values after their TTL and uses the default TTL', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, ttl: 30 });
    await cache.set('short', 1);
    await cache.set('long', 1, '1h');
    await cache.forever('forever', 1);
    await vi.waitFor(async () => expect(await cache.get('short')).toBeUndefined(), { timeout: 2000, interval: 10 });
    expect(await cache.get('long')).toBe(1);
    expect(await cache.get('forever')).toBe(1);
  });

  it('getMany dedupes keys for the store and realigns the answer', async () => {
    const { store, cache } = setup();
    await cache.setMany({ a: 1, b: 2 });
    const spy = vi.spyOn(store, 'getMany');
    expect(await cache.getMany(['a', 'x', 'b', 'a'])).toEqual([1, undefined, 2, 1]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]?.[0]).toEqual(['app:a', 'app:x', 'app:b']);
    // Repeats after more distinct keys, and of every key: each read once, in first-seen order.
    const hits: string[] = [];
    cache.on('hit', (event) => hits.push(event.key));
    expect(await cache.getMany(['b', 'a', 'x', 'a', 'b', 'c', 'x', 'b'])).toEqual([
      2,
      1,
      undefined,
      1,
      2,
      undefined,
      undefined,
      2,
    ]);
    expect(spy.mock.calls[1]?.[0]).toEqual(['app:b', 'app:a', 'app:x', 'app:c']);
    expect(hits).toEqual(['b', 'a', 'a', 'b', 'b']);
    expect(await cache.getMany([])).toEqual([]);
  });

  it('getMany reads batches with and without repeats alike, whichever came before', async () => {
    const { store, cache } = setup();
    await cache.setMany({ a: 1, b: 2, c: 3 });
    const spy = vi.spyOn(store, 'getMany');
    // Distinct, repeated, distinct (placed at once after repeats), repeated again.
    expect(await cache.getMany(['c', 'a'])).toEqual([3, 1]);
    expect(await cache.getMany(['a', 'a', 'b'])).toEqual([1, 1, 2]);
    expect(await cache.getMany(['b', 'x', 'c'])).toEqual([2, undefined, 3]);
    expect(await cache.getMany(['x', 'c', 'x'])).toEqual([undefined, 3, undefined]);
    expect(spy.mock.calls.map((call) => call[0])).toEqual([
      ['app:c', 'app:a'],
      ['app:a', 'app:b'],
      ['app:b', 'app:x', 'app:c'],
      ['app:x', 'app:c'],
    ]);
  });

  it('getMany/setMany/deleteMany fall back to single calls when the driver has no batch', async () => {
    const { store, cache } = setup({ without: ['getMany', 'setMany', 'deleteMany'] });
    await cache.setMany(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    expect(store.calls.set).toBe(2);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, 2, undefined]);
    expect(store.calls.get).toBe(3);
    expect(await cache.deleteMany(['a', 'c', 'a'])).toBe(1);
    expect(store.calls.delete).toBe(2);
  });

  it('setMany accepts an iterable of pairs; the last duplicate wins', async () => {
    const { cache } = setup();
    await cache.setMany(
      [
        ['a', 1],
        ['a', 2],
        ['b', 3],
      ],
      '1m',
    );
    expect(await cache.getMany(['a', 'b'])).toEqual([2, 3]);
  });

  it('add is set-if-absent', async () => {
    const { cache } = setup();
    expect(await cache.add('k', 1)).toBe(true);
    expect(await cache.add('k', 2)).toBe(false);
    expect(await cache.get('k')).toBe(1);
  });

  it('add without an atomic driver add is unsupported (never emulated non-atomically)', async () => {
    const { cache } = setup({ without: ['add'] });
    await expect(cache.add('k', 1)).rejects.toBeInstanceOf(UnsupportedOperationError);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('has: a get through the read path (stores have no has of their own)', async () => {
    for (const options of [{}]) {
      const { cache } = setup(options);
      await cache.set('k', 0);
      expect(await cache.has('k')).toBe(true);
      expect(await cache.has('nope')).toBe(false);
    }
  });

  it('pull returns and deletes: native or emulated', async () => {
    for (const options of [{}, { without: ['pull'] as const }]) {
      const { cache } = setup(options);
      await cache.set('k', 'v');
      expect(await cache.pull('k')).toBe('v');
      expect(await cache.has('k')).toBe(false);
      expect(await cache.pull('k')).toBeUndefined();
    }
  });

  it('increment/decrement start at 0 and agree with get', async () => {
    const { cache } = setup();
    expect(await cache.increment('n')).toBe(1);
    expect(await cache.increment('n', 5)).toBe(6);
    expect(await cache.decrement('n')).toBe(5);
    expect(await cache.decrement('n', 10)).toBe(-5);
    expect(await cache.get('n')).toBe(-5);
    await cache.set('m', 10);
    expect(await cache.increment('m', 2)).toBe(12);
  });

  it('increment rejects bad steps and drivers without a counter', async () => {
    const { cache } = setup();
    for (const by of [1.5, Number.NaN, 2 ** 60, '1' as unknown as number]) {
      await expect(cache.increment('n', by)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      await expect(cache.decrement('n', by)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    }
    const bare = setup({ without: ['increment'] }).cache;
    await expect(bare.increment('n')).rejects.toBeInstanceOf(UnsupportedOperationError);
  });

  it('touch extends expiry without rewriting the value; unsupported without a native touch', async () => {
    const { store, cache } = setup();
    await cache.set('k', 'v', 40);
    expect(await cache.touch('k', '1h')).toBe(true);
    expect(await cache.touch('missing', '1h')).toBe(false);
    expect(store.calls.set).toBe(1);
    const bare = setup({ without: ['touch'] }).cache;
    await expect(bare.touch('k', '1m')).rejects.toBeInstanceOf(UnsupportedOperationError);
  });

  it('namespaces nest under the prefix and share the store', async () => {
    const { store, cache } = setup();
    const users = cache.namespace('users');
    const admins = users.namespace('admins');
    await users.set('1', 'ann');
    await admins.set('1', 'root');
    expect(bodyOf((await store.get('app:users:1')) as string)).toBe('"ann"');
    expect(bodyOf((await store.get('app:users:admins:1')) as string)).toBe('"root"');
    expect(await cache.get('users:1')).toBe('ann');
    expect(users.prefix).toBe('app:users:');
    expect(users.name).toBe(cache.name);
    expect(() => cache.namespace('')).toThrow();
  });

  it('clear deletes only this prefix; keys lists without the prefix', async () => {
    const store = createChaosStore();
    const a = new Cache({ store, prefix: 'a:' });
    const b = new Cache({ store, prefix: 'b:' });
    await a.setMany({ x: 1, y: 2 });
    await a.namespace('ns').set('z', 3);
    await b.set('x', 1);
    const keys: string[] = [];
    for await (const key of a.keys()) keys.push(key);
    expect(keys.sort()).toEqual(['ns:z', 'x', 'y']);
    await a.namespace('ns').clear();
    expect(await a.get('x')).toBe(1);
    await a.clear();
    expect(await a.get('x')).toBeUndefined();
    expect(await b.get('x')).toBe(1);
  });

  it('clear refuses an empty prefix; clear/keys are unsupported without the driver methods', async () => {
    const { cache } = setup({}, '');
    await cache.set('k', 1);
    await expect(cache.clear()).rejects.toBeInstanceOf(ConfigError);
    expect(await cache.get('k')).toBe(1);
    const bare = setup({ without: ['clear', 'keys'] }).cache;
    await expect(bare.clear()).rejects.toBeInstanceOf(UnsupportedOperationError);
    await expect(
      (async () => {
        for await (const _ of bare.keys()) break;
      })(),
    ).rejects.toBeInstanceOf(UnsupportedOperationError);
  });

  it('accepts a promise of a store, resolving it once', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store: Promise.resolve(store) });
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    expect(await cache.getStore()).toBe(store);
    expect((await cache.capabilities()).atomicAdd).toBe(true);
  });

  it('a rejected store promise surfaces on every operation, never as an unhandled rejection', async () => {
    const error = new DriverNotFoundError('nope', ['memory'], '@larder/nope');
    const cache = new Cache({ store: Promise.reject(error), onError: 'miss' });
    await expect(cache.get('k')).rejects.toBe(error);
    await expect(cache.set('k', 1)).rejects.toBe(error);
    await expect(cache.remember('k', '1m', () => 1)).rejects.toBe(error);
    await expect(cache.close()).resolves.toBeUndefined();
  });

  it('validates options at construction', () => {
    const store = createChaosStore();
    expect(() => new Cache({} as never)).toThrow(ConfigError);
    expect(() => new Cache(null as never)).toThrow(ConfigError); // not a TypeError
    expect(() => new Cache({ store, onError: 'ignore' as never })).toThrow(ConfigError);
    expect(() => new Cache({ store, ttl: -1 })).toThrow(/Invalid TTL/);
    expect(() => new Cache({ store, timeout: 'soon' as never })).toThrow(/Invalid TTL/);
  });

  it('close closes the store once', async () => {
    const { store, cache } = setup();
    await Promise.all([cache.close(), cache.namespace('x').close()]);
    expect(store.calls.close).toBe(1);
  });

  it('stores with rawValues skip the codec but still reject what the codec rejects', async () => {
    const inner = createChaosStore({ capabilities: { rawValues: true, inProcess: true } });
    const cache = new Cache({ store: inner });
    const value = { a: [1, 2], when: new Date(5) };
    await cache.set('k', value);
    expect(await inner.get('k')).toBe(value); // kept as given
    expect(await cache.get('k')).toBe(value);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const bad of [undefined, () => 1, Symbol('s'), { f: () => 1 }, circular]) {
      await expect(cache.set('k', bad)).rejects.toMatchObject({ code: 'E_SERIALIZATION' });
    }
    // Shared, non-circular references are fine.
    const shared = { x: 1 };
    await cache.set('k2', { a: shared, b: shared });
    expect(await cache.get('k')).toBe(value);
  });

  it('works with a store that only has get/set/delete', async () => {
    const minimal: CacheStore = {
      driver: 'minimal',
      capabilities: {
        atomicAdd: false,
        ttlPrecisionMs: 1,
        maxKeyBytes: 100,
        maxValueBytes: 100,
        inProcess: true,
      },
      ...(() => {
        const map = new Map<string, string | Uint8Array>();
        return {
          get: async (k: string) => map.get(k),
          set: async (k: string, v: string | Uint8Array) => void map.set(k, v),
          delete: async (k: string) => map.delete(k),
        };
      })(),
    };
    const cache = new Cache({ store: minimal, prefix: 'm:' });
    await cache.setMany({ a: 1, b: 2 });
    expect(await cache.getMany(['a', 'b'])).toEqual([1, 2]);
    expect(await cache.has('a')).toBe(true);
    expect(await cache.pull('a')).toBe(1);
    expect(await cache.deleteMany(['a', 'b'])).toBe(1);
    await expect(cache.lock('l', '1s').acquire()).rejects.toBeInstanceOf(UnsupportedOperationError);
  });
});
