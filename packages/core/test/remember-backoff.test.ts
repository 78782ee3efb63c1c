import { Cache, isLarderError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

// `remember`'s `failure: { backoff, max }` on the chaos store with a fake clock (Date only):
// a fleet-wide backoff after loader failures (core README "remember when the source fails").

afterEach(() => {
  vi.useRealTimers();
});

const down = () => Promise.reject(new Error('source down'));

/** A loader that fails, counting its runs. */
function failing() {
  const counter = { runs: 0, loader: () => {} };
  counter.loader = () => {
    counter.runs++;
    return down();
  };
  return counter as { runs: number; loader: () => Promise<string> };
}

/** A cache on `store` with a stale value of 'k' past its 1 s TTL (grace 1 h). */
async function withStale(store = createChaosStore(), prefix = 'bo:') {
  const cache = new Cache({ store, prefix });
  await cache.remember('k', '1s', () => 'old', { grace: '1h' });
  vi.setSystemTime(Date.now() + 2000);
  return cache;
}

describe('remember: failure backoff', () => {
  it('serves the stale value without running the loader inside the window, probes once when it ends, and doubles it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const cache = await withStale(store);
    const source = failing();
    const options = { grace: '1h', failure: { backoff: '1s', max: '10s' } } as const;
    expect(await cache.remember('k', '1s', source.loader, options)).toBe('old');
    await vi.waitFor(async () => expect(await store.has('bo:__larder:backoff:k')).toBe(true));
    expect(source.runs).toBe(1);
    // Inside the window: 100 calls, no run; the store sees the key's reads (the call's, its refresh's re-read), not the marker's.
    const gets = store.calls.get;
    const writes = store.calls.add + store.calls.set;
    for (let i = 0; i < 100; i++) expect(await cache.remember('k', '1s', source.loader, options)).toBe('old');
    expect(source.runs).toBe(1);
    expect(store.calls.get - gets).toBeLessThanOrEqual(200);
    expect(store.calls.add + store.calls.set).toBe(writes);
    // The window ends: one probe, which fails: the next window is 2 s.
    vi.setSystemTime(Date.now() + 1001);
    expect(await cache.remember('k', '1s', source.loader, options)).toBe('old');
    await vi.waitFor(() => expect(source.runs).toBe(2));
    vi.setSystemTime(Date.now() + 1500);
    for (let i = 0; i < 10; i++) await cache.remember('k', '1s', source.loader, options);
    expect(source.runs).toBe(2);
    vi.setSystemTime(Date.now() + 600);
    await cache.remember('k', '1s', source.loader, options);
    await vi.waitFor(() => expect(source.runs).toBe(3));
  });

  it('is shared by the fleet: another instance that never saw the failure backs off from the marker', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const one = await withStale(store, 'fleet:');
    const two = new Cache({ store, prefix: 'fleet:' });
    const source = failing();
    const options = { grace: '1h', failure: { backoff: '5s' } } as const;
    expect(await one.remember('k', '1s', source.loader, options)).toBe('old');
    await vi.waitFor(async () => expect(await store.has('fleet:__larder:backoff:k')).toBe(true));
    for (let i = 0; i < 20; i++) expect(await two.remember('k', '1s', source.loader, options)).toBe('old');
    expect(source.runs).toBe(1);
  });

  it('when the window ends, exactly one instance of the fleet probes the source', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const first = await withStale(store, 'probe:');
    const fleet = [first, ...Array.from({ length: 7 }, () => new Cache({ store, prefix: 'probe:' }))];
    const source = failing();
    const options = { grace: '1h', failure: { backoff: '1s', max: '1s' } } as const;
    await first.remember('k', '1s', source.loader, options);
    await vi.waitFor(async () => expect(await store.has('probe:__larder:backoff:k')).toBe(true));
    // Every instance learns the window.
    await Promise.all(fleet.map((cache) => cache.remember('k', '1s', source.loader, options)));
    await vi.waitFor(() => expect(source.runs).toBe(1));
    vi.setSystemTime(Date.now() + 1100);
    // The marker outlives its window, so an ended window is told apart from "no outage".
    expect(await store.has('probe:__larder:backoff:k')).toBe(true);
    await Promise.all(fleet.map((cache) => cache.remember('k', '1s', source.loader, options)));
    await vi.waitFor(() => expect(source.runs).toBe(2));
    // An instance that never saw the episode, arriving after the window ended, does not probe again.
    const late = new Cache({ store, prefix: 'probe:' });
    expect(await late.remember('k', '1s', source.loader, options)).toBe('old');
    await Promise.all(fleet.map((cache) => cache.remember('k', '1s', source.loader, options)));
    expect(source.runs).toBe(2);
    // The next window ends: again one probe.
    vi.setSystemTime(Date.now() + 1100);
    await Promise.all([late, ...fleet].map((cache) => cache.remember('k', '1s', source.loader, options)));
    await vi.waitFor(() => expect(source.runs).toBe(3));
    await Promise.all([late, ...fleet].map((cache) => cache.remember('k', '1s', source.loader, options)));
    expect(source.runs).toBe(3);
  });

  it('a marker long past its window (one more window and a minute) is gone: the key runs freely again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const cache = await withStale(store, 'lapse:');
    const source = failing();
    const options = { grace: '1h', failure: { backoff: '1s', max: '1s' } } as const;
    await cache.remember('k', '1s', source.loader, options);
    await vi.waitFor(async () => expect(await store.has('lapse:__larder:backoff:k')).toBe(true));
    vi.setSystemTime(Date.now() + 1000 + 1000 + 60_000 + 100);
    expect(await store.has('lapse:__larder:backoff:k')).toBe(false);
    const other = new Cache({ store, prefix: 'lapse:' });
    await Promise.all([cache, other].map((each) => each.remember('k', '1s', source.loader, options)));
    await vi.waitFor(() => expect(source.runs).toBe(3));
  });

  it('without a stale value rejects with LoaderBackoffError inside the window (cause: the failure)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new Cache({ store: createChaosStore(), prefix: 'nostale:' });
    const source = failing();
    const options = { failure: { backoff: '30s' } } as const;
    await expect(cache.remember('k', '1m', source.loader, options)).rejects.toThrow('source down');
    const error = await cache.remember('k', '1m', source.loader, options).catch((caught: unknown) => caught);
    expect(isLarderError(error, 'E_LOADER_BACKOFF')).toBe(true);
    expect(error).toMatchObject({ key: 'k', message: expect.stringContaining('source down') });
    expect((error as Error).cause).toMatchObject({ message: 'source down' });
    expect(source.runs).toBe(1);
  });

  it('a probe that succeeds stores the value and ends the episode for the fleet', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const cache = await withStale(store, 'heal:');
    const options = { grace: '1h', failure: { backoff: '1s' } } as const;
    await cache.remember('k', '1s', down, options);
    await vi.waitFor(async () => expect(await store.has('heal:__larder:backoff:k')).toBe(true));
    vi.setSystemTime(Date.now() + 1100);
    await cache.remember('k', '1s', () => 'new', options);
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('new'));
    await vi.waitFor(async () => expect(await store.has('heal:__larder:backoff:k')).toBe(false));
  });

  it('without `failure`, every call past the TTL runs the failing loader (what the option answers)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = await withStale(createChaosStore(), 'today:');
    const source = failing();
    for (let i = 0; i < 10; i++) {
      expect(await cache.remember('k', '1s', source.loader, { grace: '1h' })).toBe('old');
      await vi.waitFor(() => expect(source.runs).toBe(i + 1));
    }
  });

  const bad: [string, unknown, string][] = [
    ['backoff 0', { backoff: 0 }, 'E_INVALID_TTL'],
    ['backoff -1', { backoff: -1 }, 'E_INVALID_TTL'],
    ["backoff 'abc'", { backoff: 'abc' }, 'E_INVALID_TTL'],
    ['max 0', { max: 0 }, 'E_INVALID_TTL'],
    ['max below backoff', { backoff: '10s', max: '1s' }, 'E_INVALID_ARGUMENT'],
  ];
  it.each(bad)(
    'refuses %s with a typed error before running the loader; nothing stored',
    async (_name, failure, code) => {
      const cache = new Cache({ store: createChaosStore(), prefix: 'bad:' });
      let runs = 0;
      const loader = () => {
        runs++;
        return 'v';
      };
      await expect(cache.remember('k', '1m', loader, { failure: failure as never })).rejects.toMatchObject({ code });
      expect(runs).toBe(0);
      expect(await cache.get('k')).toBeUndefined();
    },
  );
});
