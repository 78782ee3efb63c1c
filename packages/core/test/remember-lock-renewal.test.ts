import { Cache } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';

// `remember`'s lock renews itself while its loader runs: a loader that outlives the lock's TTL
// stays the one run (the 25 s loader under a 10 s lock, scaled to 600 ms under 150 ms).

describe('remember: lock renewal', () => {
  it('a loader running four times the lock TTL stays the one run: the waiter gets its value', async () => {
    const store = createChaosStore();
    const one = new Cache({ store, prefix: 'renew:' });
    const two = new Cache({ store, prefix: 'renew:' });
    const options = { lock: { ttl: 150, wait: '10s' } } as const;
    let runs = 0;
    let finish: (value: string) => void = () => {};
    const holder = one.remember(
      'k',
      '1m',
      () => {
        runs++;
        return new Promise<string>((resolve) => (finish = resolve));
      },
      options,
    );
    await vi.waitFor(() => expect(runs).toBe(1));
    const waiter = two.remember('k', '1m', () => `two${++runs}`, options);
    // Renewed every third of its TTL: twelve renewals are four lock TTLs of the holder's run.
    const started = Date.now();
    await vi.waitFor(() => expect(store.calls.touch).toBeGreaterThanOrEqual(12), { timeout: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 150 - 100);
    expect(await store.has('renew:__larder:remember:k')).toBe(true);
    finish('held');
    expect(await holder).toBe('held');
    expect(await waiter).toBe('held');
    expect(runs).toBe(1);
    // Released after the run.
    await vi.waitFor(async () => expect(await store.has('renew:__larder:remember:k')).toBe(false));
  });
});
