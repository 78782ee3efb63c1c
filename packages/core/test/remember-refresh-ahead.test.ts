import { Cache } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

// `remember`'s `refreshAhead: { at, jitter }` on the chaos store with a fake clock (Date only).

afterEach(() => {
  vi.useRealTimers();
});

function gated() {
  const counter = { runs: 0, open: (_value: string) => {}, loader: () => Promise.resolve('') };
  counter.loader = () => {
    counter.runs++;
    return new Promise<string>((resolve) => (counter.open = resolve));
  };
  return counter;
}

const options = { refreshAhead: { at: 0.8 } } as const;

describe('remember: refreshAhead', () => {
  it('a hit past `at` of the TTL answers at once and refreshes once in the background; a younger hit does not', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'ra:' });
    await cache.remember('k', '10s', () => 'v1', options);
    const source = gated();
    vi.setSystemTime(Date.now() + 5000);
    expect(await cache.remember('k', '10s', source.loader, options)).toBe('v1');
    expect(source.runs).toBe(0);
    vi.setSystemTime(Date.now() + 3500);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => cache.remember('k', '10s', source.loader, options)),
    );
    expect(answers.every((answer) => answer === 'v1')).toBe(true);
    await vi.waitFor(() => expect(source.runs).toBe(1));
    source.open('v2');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('v2'));
    // The refreshed entry lives a full TTL from now: past the old boundary it is still a hit.
    vi.setSystemTime(Date.now() + 5000);
    expect(await cache.remember('k', '10s', () => 'never', options)).toBe('v2');
    expect(source.runs).toBe(1);
  });

  it('one instance of the fleet refreshes: the others find the claim taken and do not wait', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const fleet = Array.from({ length: 8 }, () => new Cache({ store, prefix: 'ra-fleet:' }));
    await fleet[0]?.remember('k', '10s', () => 'v1', options);
    vi.setSystemTime(Date.now() + 9000);
    const source = gated();
    const started = performance.now();
    const answers = await Promise.all(fleet.map((cache) => cache.remember('k', '10s', source.loader, options)));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(answers.every((answer) => answer === 'v1')).toBe(true);
    await vi.waitFor(() => expect(source.runs).toBe(1));
    // Claims settled: every instance asked once, one got it.
    await vi.waitFor(() => expect(store.calls.add).toBeGreaterThanOrEqual(8));
    source.open('v2');
    await vi.waitFor(async () => expect(await fleet[3]?.get('k')).toBe('v2'));
    expect(source.runs).toBe(1);
  });

  it('adopts an entry another instance refreshed already instead of loading', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    // B's L1 keeps the entry it read (no invalidation channel): its hit sees the old write.
    const b = new Cache({ store, prefix: 'ra-adopt:', l1: { invalidation: 'none' } });
    const a = new Cache({ store, prefix: 'ra-adopt:' });
    await a.remember('k', '10s', () => 'v1', options);
    expect(await b.get('k')).toBe('v1');
    vi.setSystemTime(Date.now() + 9000);
    expect(await a.remember('k', '10s', () => 'v2', options)).toBe('v1');
    await vi.waitFor(async () => expect(await a.get('k')).toBe('v2'));
    await vi.waitFor(() => expect(store.calls.compareAndDelete).toBeGreaterThanOrEqual(1));
    let runs = 0;
    expect(await b.remember('k', '10s', () => `b${++runs}`, options)).toBe('v1');
    await vi.waitFor(async () => expect(await b.get('k')).toBe('v2'));
    expect(runs).toBe(0);
    await b.close();
  });

  const bad: [string, unknown, string][] = [
    ['at 0', { at: 0 }, 'refreshAhead.at'],
    ['at 1', { at: 1 }, 'refreshAhead.at'],
    ['at -0.5', { at: -0.5 }, 'refreshAhead.at'],
    ['at 1.5', { at: 1.5 }, 'refreshAhead.at'],
    ["at '0.8'", { at: '0.8' }, 'refreshAhead.at'],
    ['jitter -0.1', { at: 0.8, jitter: -0.1 }, 'refreshAhead.jitter'],
    ['jitter at or above at', { at: 0.5, jitter: 0.5 }, 'refreshAhead.jitter'],
  ];
  it.each(bad)(
    'refuses %s with InvalidArgumentError before running the loader; nothing stored',
    async (_name, refreshAhead, argument) => {
      const cache = new Cache({ store: createChaosStore(), prefix: 'ra-bad:' });
      let runs = 0;
      const loader = () => {
        runs++;
        return 'v';
      };
      await expect(cache.remember('k', '1m', loader, { refreshAhead: refreshAhead as never })).rejects.toMatchObject({
        code: 'E_INVALID_ARGUMENT',
        argument,
      });
      expect(runs).toBe(0);
      expect(await cache.get('k')).toBeUndefined();
    },
  );
});
