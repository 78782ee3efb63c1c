import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import type { CacheStore } from '../src/driver';
import { Cache, UnsupportedOperationError } from '../src/index';

/** The memory store with some optional operations hidden (a driver that lacks them). */
function without(store: CacheStore, ...hidden: string[]): CacheStore {
  const capabilities = { ...store.capabilities, compareAndSet: false, atomicAdd: !hidden.includes('add') };
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'capabilities') return capabilities;
      if (name === 'driver') return 'partial';
      if (typeof name === 'string' && hidden.includes(name)) return undefined;
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('Cache.compareAndSet', () => {
  const native = () => new Cache({ store: createMemoryStore({ useCodec: true }), prefix: 'cas:' });
  const emulated = () =>
    new Cache({ store: without(createMemoryStore({ useCodec: true }), 'compareAndSet'), prefix: 'cas:' });

  for (const [name, make] of [
    ['native (memory)', native],
    ['emulated under a lock', emulated],
  ] as const) {
    it(`${name}: compares values in their encoded form`, async () => {
      const cache = make();
      expect(await cache.compareAndSet('k', undefined, { a: 1 }, '1m')).toBe(true);
      expect(await cache.compareAndSet('k', undefined, { a: 2 }, '1m')).toBe(false);
      expect(await cache.compareAndSet('k', { a: 9 }, { a: 2 }, '1m')).toBe(false);
      expect(await cache.get('k')).toEqual({ a: 1 });
      expect(await cache.compareAndSet('k', await cache.get('k'), { a: 2 }, '1m')).toBe(true);
      expect(await cache.get('k')).toEqual({ a: 2 });
    });

    it(`${name}: 20 concurrent callers expecting the same value: one wins`, async () => {
      const cache = make();
      await cache.set('k', 'start');
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cache.compareAndSet('k', 'start', i)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await cache.get('k')).toBe(results.indexOf(true));
    });
  }

  it('a driver with neither compareAndSet nor locks: UnsupportedOperationError naming it', async () => {
    const cache = new Cache({ store: without(createMemoryStore(), 'compareAndSet', 'add'), prefix: 'cas:' });
    const error = await cache.compareAndSet('k', undefined, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedOperationError);
    expect(String((error as Error).message)).toContain('partial');
  });
});
