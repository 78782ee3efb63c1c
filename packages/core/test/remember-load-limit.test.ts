import { Cache } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

// `remember`'s `maxConcurrentLoads`: the background refreshes a cache runs at once, across keys.

afterEach(() => {
  vi.useRealTimers();
});

describe('remember: maxConcurrentLoads', () => {
  it('20 stale keys start 3 background refreshes; the others serve their stale value, refreshed once slots free', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new Cache({ store: createChaosStore(), prefix: 'limit:' });
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const key of keys) await cache.remember(key, '1s', () => 'old', { grace: '1h' });
    vi.setSystemTime(Date.now() + 2000);
    const gates: (() => void)[] = [];
    let runs = 0;
    const loader = () => {
      runs++;
      return new Promise<string>((resolve) => gates.push(() => resolve('new')));
    };
    const options = { grace: '1h', maxConcurrentLoads: 3 } as const;
    for (const key of keys) expect(await cache.remember(key, '1s', loader, options)).toBe('old');
    await vi.waitFor(() => expect(runs).toBe(3));
    for (const key of keys) await cache.remember(key, '1s', loader, options);
    expect(runs).toBe(3);
    for (const open of gates.splice(0)) open();
    await vi.waitFor(async () =>
      expect((await cache.getMany(keys)).filter((value) => value === 'new')).toHaveLength(3),
    );
    for (const key of keys) await cache.remember(key, '1s', loader, options);
    await vi.waitFor(() => expect(runs).toBe(6));
  });

  it('never refuses a caller waiting on a miss', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'limit-miss:' });
    const values = await Promise.all(
      Array.from({ length: 5 }, (_, i) => cache.remember(`m${i}`, '1m', () => `v${i}`, { maxConcurrentLoads: 1 })),
    );
    expect(values).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it.each([0, -1, 1.5, Number.NaN, '2'])(
    'refuses maxConcurrentLoads %j with InvalidArgumentError; nothing stored',
    async (limit) => {
      const cache = new Cache({ store: createChaosStore(), prefix: 'limit-bad:' });
      let runs = 0;
      await expect(
        cache.remember('k', '1m', () => `v${++runs}`, { maxConcurrentLoads: limit as number }),
      ).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'maxConcurrentLoads' });
      expect(runs).toBe(0);
      expect(await cache.get('k')).toBeUndefined();
    },
  );
});
