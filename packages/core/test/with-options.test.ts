import { Cache, type CacheErrorEvent, ConfigError, createCacheManager } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';

describe('cache.withOptions({ onError })', () => {
  it('fails closed through the view while the cache fails open, on the same store, events and stats', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'p:', onError: 'miss' });
    const strict = cache.withOptions({ onError: 'throw' });
    expect(cache.onError).toBe('miss');
    expect(strict.onError).toBe('throw');
    expect(strict.prefix).toBe(cache.prefix);
    await strict.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    const events: CacheErrorEvent[] = [];
    cache.on('error', (event) => events.push(event));
    store.fail({ ops: ['get'] });
    expect(await cache.get('k')).toBeUndefined();
    await expect(strict.get('k')).rejects.toMatchObject({ code: 'E_BACKEND' });
    store.heal();
    // One engine: both failures counted and emitted once each, on the cache's listeners.
    expect(events.map((event) => event.operation)).toEqual(['get', 'get']);
    expect(cache.stats()).toMatchObject({ errors: 2, writes: 1, hits: 1 });
    expect(strict.stats()).toEqual(cache.stats());
  });

  it('keeps namespaces and the error policy apart: a namespace of a view keeps its policy', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'p:', onError: 'miss' });
    const sessions = cache.withOptions({ onError: 'throw' }).namespace('sess');
    expect(sessions.onError).toBe('throw');
    expect(sessions.prefix).toBe('p:sess:');
    store.fail({ ops: ['set'] });
    await expect(sessions.set('a', 1)).rejects.toMatchObject({ code: 'E_BACKEND' });
    await expect(cache.namespace('sess').set('a', 1)).resolves.toBeUndefined();
  });

  it("refuses an onError other than 'throw' or 'miss'", () => {
    const cache = new Cache({ store: createChaosStore() });
    expect(() => cache.withOptions({ onError: 'ignore' as never })).toThrow(ConfigError);
  });

  it("the manager's session store is a fail-closed view of the store's cache (one L1, one set of stats)", async () => {
    const caches = createCacheManager({ stores: { main: { driver: 'memory', onError: 'miss' } }, default: 'main' });
    const sessions = caches.sessionStore();
    expect(sessions.onError).toBe('throw');
    expect(caches.sessionStore()).toBe(sessions);
    await sessions.set('s', 'x');
    expect(await caches.store().get('s')).toBe('x');
    expect(caches.store().stats()).toMatchObject({ writes: 1, hits: 1 });
    await caches.close();
  });
});
