import { Cache, createCacheManager } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../src/config/config-from-env';

describe('a prefix without a trailing separator gets one', () => {
  it("prefix 'app' is 'app:' and its clear() leaves 'apple' alone", async () => {
    const store = createChaosStore();
    const app = new Cache({ store, prefix: 'app' });
    const apple = new Cache({ store, prefix: 'apple' });
    expect(app.prefix).toBe('app:');
    await app.set('k', 1);
    await apple.set('k', 2);
    expect(await store.has!('app:k')).toBe(true);
    await app.clear();
    expect(await app.get('k')).toBeUndefined();
    expect(await apple.get('k')).toBe(2);
  });

  it("an empty prefix stays empty; 'app:' is unchanged; namespace('users:') is not doubled", () => {
    const store = createChaosStore();
    expect(new Cache({ store }).prefix).toBe('');
    expect(new Cache({ store, prefix: 'app:' }).prefix).toBe('app:');
    const cache = new Cache({ store, prefix: 'app' });
    expect(cache.namespace('users').prefix).toBe('app:users:');
    expect(cache.namespace('users:').prefix).toBe('app:users:');
  });

  it('CACHE_PREFIX=myapp gives keys myapp:... through the manager', async () => {
    const store = createChaosStore();
    const config = configFromEnv({ CACHE_PREFIX: 'myapp' });
    const caches = createCacheManager({ ...config, default: 'fake', stores: { ...config.stores, fake: store } });
    const cache = caches.store();
    expect(cache.prefix).toBe('myapp:');
    await cache.set('user:1', 'x');
    expect(await store.has!('myapp:user:1')).toBe(true);
    await caches.close();
  });
});
