import { createMemoryStore } from '@larder/memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../src/contract/errors';
import { cache, getDefaultManager, resetDefaultManager, setDefaultManager } from '../src/manager/app-cache';
import { createCacheManager } from '../src/manager/manager';

afterEach(async () => {
  vi.unstubAllEnvs();
  await resetDefaultManager();
});

describe('app-level cache', () => {
  it('builds a manager from process.env on first use and delegates to its default store', async () => {
    vi.stubEnv('CACHE_DRIVER', 'memory');
    vi.stubEnv('CACHE_PREFIX', 'app-test:');
    await cache.set('k', { a: 1 }, '1m');
    expect(await cache.get('k')).toEqual({ a: 1 });
    expect(await cache.remember('r', '5m', () => 42)).toBe(42);
    expect(await cache.increment('n')).toBe(1);
    expect(cache.manager().store().prefix).toBe('app-test:');
    expect(cache.manager()).toBe(getDefaultManager());
    const keys: string[] = [];
    for await (const key of cache.keys()) keys.push(key);
    expect(keys.sort()).toEqual(['k', 'n', 'r']);
    expect(cache.stats().writes).toBeGreaterThan(0);
  });

  it('offers every Cache method: compareAndSet, rememberWithStatus, describe and withOptions too', async () => {
    setDefaultManager(createCacheManager({ default: 'mem', stores: { mem: createMemoryStore() } }));
    expect(await cache.compareAndSet('c', undefined, 1)).toBe(true);
    expect(await cache.compareAndSet('c', 2, 3)).toBe(false);
    expect(await cache.rememberWithStatus('r', '1m', () => 'v')).toMatchObject({ value: 'v', status: 'miss' });
    expect(await cache.rememberWithStatus('r', '1m', () => 'w')).toMatchObject({ value: 'v', status: 'hit' });
    expect((await cache.describe()).driver).toBe('memory');
    expect(cache.withOptions({ onError: 'miss' }).onError).toBe('miss');
  });

  it('uses the manager given to setDefaultManager', async () => {
    const store = createMemoryStore();
    setDefaultManager(createCacheManager({ default: 'mine', stores: { mine: store } }));
    await cache.set('x', 'y');
    expect(await cache.getStore()).toBe(store);
    expect(await cache.namespace('ns').get('x')).toBeUndefined();
  });

  it('on/off register listeners on the default store and chain', async () => {
    const hits: unknown[] = [];
    const listener = (event: unknown) => hits.push(event);
    expect(cache.on('hit', listener)).toBe(cache);
    await cache.set('h', 1);
    await cache.get('h');
    expect(hits).toHaveLength(1);
    cache.off('hit', listener);
    await cache.get('h');
    expect(hits).toHaveLength(1);
  });

  it('a bad environment fails on first use with a ConfigError naming the variable', async () => {
    vi.stubEnv('CACHE_TTL', 'forever');
    await expect(cache.get('k')).rejects.toThrow(ConfigError);
    await expect(cache.set('k', 1)).rejects.toThrow(/CACHE_TTL/);
    expect(() => cache.namespace('x')).toThrow(ConfigError);
  });

  it('resetDefaultManager closes the manager and the next use builds a new one', async () => {
    const first = getDefaultManager();
    await cache.set('k', 1);
    await resetDefaultManager();
    expect(getDefaultManager()).not.toBe(first);
    expect(await cache.get('k')).toBeUndefined();
  });
});
