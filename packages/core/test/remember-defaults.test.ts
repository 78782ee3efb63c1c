import { Cache, createCacheManager, type LoaderContext } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { customDriver } from '../src/config/store-config';

// Defaults of `remember`'s options per cache (the `remember` option) and per store config.

afterEach(() => {
  vi.useRealTimers();
});

const hung = (context: LoaderContext) =>
  new Promise<string>((_resolve, reject) =>
    context.signal.addEventListener('abort', () => reject(context.signal.reason)),
  );

describe('remember defaults', () => {
  it('a cache default applies to every call: grace serves the stale value past the TTL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new Cache({ store: createChaosStore(), prefix: 'def:', remember: { grace: '1h' } });
    await cache.remember('k', '1s', () => 'old');
    vi.setSystemTime(Date.now() + 5000);
    expect(await cache.rememberWithStatus('k', '1s', () => 'new')).toMatchObject({ value: 'old', status: 'graced' });
  });

  it("a call's own option replaces the default one", async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'def-call:', remember: { timeout: { hard: 40 } } });
    await expect(cache.remember('a', '1m', hung)).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT', timeoutMs: 40 });
    await expect(cache.remember('b', '1m', hung, { timeout: { hard: 80 } })).rejects.toMatchObject({
      code: 'E_LOADER_TIMEOUT',
      timeoutMs: 80,
    });
  });

  it('a store config of a manager gives the defaults of its cache', async () => {
    const caches = createCacheManager({
      stores: { slow: { driver: customDriver('chaos'), remember: { timeout: { hard: 30 } } } },
    });
    caches.extend('chaos', () => createChaosStore());
    await expect(caches.store('slow').remember('k', '1m', hung)).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT' });
    await caches.close();
  });

  const bad: [string, object, string][] = [
    ['timeout.soft 0', { timeout: { soft: 0 } }, 'E_INVALID_TTL'],
    ['soft above hard', { timeout: { soft: '2s', hard: '1s' } }, 'E_INVALID_ARGUMENT'],
    ["grace 'abc'", { grace: 'abc' }, 'E_INVALID_TTL'],
    ['refreshAhead.at 2', { refreshAhead: { at: 2 } }, 'E_INVALID_ARGUMENT'],
    ['failure.backoff -1', { failure: { backoff: -1 } }, 'E_INVALID_TTL'],
    ['maxConcurrentLoads 0', { maxConcurrentLoads: 0 }, 'E_INVALID_ARGUMENT'],
  ];
  it.each(bad)('refuses a default %s when the cache is built', (_name, remember, code) => {
    expect(() => new Cache({ store: createChaosStore(), remember: remember as never })).toThrow(
      expect.objectContaining({ code }),
    );
  });
});
