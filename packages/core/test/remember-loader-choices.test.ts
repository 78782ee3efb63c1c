import { Cache, type LoaderContext } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';
import { createChaosStore } from '@larder/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InvalidationSource } from '../src/contract/invalidation';
import { localBus } from './helpers/local-bus';

// The loader's own choices through its context: setTtl, setGrace, setTags, notModified (core
// README "remember when the source fails"). The clock is faked (Date only) to step past TTLs.

afterEach(() => {
  vi.useRealTimers();
});

/** The chaos store with the L1 invalidation bus of `source` (a second instance's view of one store). */
function onBus(inner: CacheStore, source: () => InvalidationSource): CacheStore {
  const store: CacheStore = Object.create(inner);
  Object.assign(store, { invalidation: (mode: string) => (mode === 'bus' ? source() : undefined) });
  return store;
}

describe('remember: setTtl and setGrace', () => {
  it('setTtl stores the value for the loader TTL instead of the call TTL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new Cache({ store: createChaosStore(), prefix: 'ttl:' });
    const value = await cache.remember('k', '1h', (context) => {
      context.setTtl('2s');
      return 'short';
    });
    expect(value).toBe('short');
    vi.setSystemTime(Date.now() + 1500);
    expect(await cache.get('k')).toBe('short');
    vi.setSystemTime(Date.now() + 1000);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('setGrace keeps the value past its TTL for the loader grace: served stale while it refreshes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new Cache({ store: createChaosStore(), prefix: 'grace:' });
    await cache.remember('k', '1s', (context) => {
      context.setGrace('1h');
      return 'old';
    });
    vi.setSystemTime(Date.now() + 60_000);
    let stale: LoaderContext | undefined;
    expect(
      await cache.remember('k', '1s', (context) => {
        stale = context;
        return 'new';
      }),
    ).toBe('old');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('new'));
    expect(stale?.stale).toBe('old');
    expect(stale?.staleForMs).toBeGreaterThanOrEqual(59_000);
  });
});

describe('remember: setTags', () => {
  it('tags the stored value: invalidating the tag removes it', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'tags:' });
    await cache.remember('user:1', '1h', (context) => {
      context.setTags(['user:1']);
      return { name: 'Ada' };
    });
    expect(await cache.get('user:1')).toEqual({ name: 'Ada' });
    await cache.invalidateTags(['user:1']);
    expect(await cache.get('user:1')).toBeUndefined();
  });

  it('adds to the call tags: either tag removes the value', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'tags2:' });
    const load = (context: LoaderContext) => {
      context.setTags(['b']);
      return 1;
    };
    await cache.remember('k', '1h', load, { tags: ['a'] });
    await cache.invalidateTags(['a']);
    expect(await cache.get('k')).toBeUndefined();
    await cache.remember('k', '1h', load, { tags: ['a'] });
    await cache.invalidateTags(['b']);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('remember: notModified', () => {
  it('keeps the stale value, extends its life, and tells the L1 of every other instance', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const inner = createChaosStore();
    const bus = localBus();
    const l1 = { invalidation: 'bus', busUrl: 'redis://x' } as const;
    const a = new Cache({ store: onBus(inner, bus.source), prefix: 'nm', l1 });
    const b = new Cache({ store: onBus(inner, bus.source), prefix: 'nm', l1 });
    await a.remember('k', '1s', () => ({ rev: 1 }), { grace: '1h' });
    // B's L1 holds the entry; past its TTL it would read as a miss there unless B is told.
    expect(await b.get('k')).toEqual({ rev: 1 });
    vi.setSystemTime(Date.now() + 5000);
    expect(await b.get('k')).toBeUndefined();
    const published = bus.published.length;
    let runs = 0;
    const kept = await a.remember(
      'k',
      '10s',
      (context) => {
        runs++;
        context.notModified();
        return undefined as unknown as { rev: number };
      },
      { grace: '1h' },
    );
    expect(kept).toEqual({ rev: 1 });
    await vi.waitFor(() => expect(runs).toBe(1));
    // Every L1 was told, and the value reads fresh everywhere for the new TTL.
    await vi.waitFor(() => expect(bus.published.length).toBeGreaterThan(published));
    expect(await b.get('k')).toEqual({ rev: 1 });
    expect(await a.get('k')).toEqual({ rev: 1 });
    vi.setSystemTime(Date.now() + 9000);
    expect(await b.get('k')).toEqual({ rev: 1 });
    await a.close();
    await b.close();
  });

  it('without a stale value rejects with InvalidArgumentError and stores nothing', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'nm2:' });
    await expect(
      cache.remember('k', '1m', (context) => {
        context.notModified();
        return 'x';
      }),
    ).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', argument: 'notModified' });
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('remember: a loader bad input is a typed error and nothing is stored', () => {
  const cases: [string, (context: LoaderContext) => void, string][] = [
    ["setTtl('abc')", (context) => context.setTtl('abc' as never), 'E_INVALID_TTL'],
    ['setTtl(0)', (context) => context.setTtl(0), 'E_INVALID_TTL'],
    ['setTtl(-1)', (context) => context.setTtl(-1), 'E_INVALID_TTL'],
    ["setGrace('soon')", (context) => context.setGrace('soon' as never), 'E_INVALID_TTL'],
    ["setTags([''])", (context) => context.setTags(['']), 'E_INVALID_TAG'],
  ];
  it.each(cases)('%s rejects the run, even when the loader catches the throw', async (_name, misuse, code) => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'bad-ctx:' });
    const thrown: unknown[] = [];
    const loader = (context: LoaderContext) => {
      try {
        misuse(context);
      } catch (error) {
        thrown.push(error);
      }
      return 'v';
    };
    await expect(cache.remember('k', '1m', loader)).rejects.toMatchObject({ code });
    expect(thrown).toHaveLength(1);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('remember: timeout.soft', () => {
  it('answers with the stale value at the soft bound while the loader finishes in the background', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'soft:' });
    vi.useFakeTimers({ toFake: ['Date'] });
    await cache.remember('k', '1s', () => 'old', { grace: '1h' });
    vi.setSystemTime(Date.now() + 2000); // Date only: timers and performance.now stay real
    let finish: (value: string) => void = () => {};
    const slow = () => new Promise<string>((resolve) => (finish = resolve));
    const options = { grace: '1h', timeout: { soft: 50, hard: 5000 } } as const;
    const started = performance.now();
    const answers = await Promise.all([0, 1, 2].map(() => cache.rememberWithStatus('k', '1s', slow, options)));
    const waited = performance.now() - started;
    expect(answers.map((answer) => [answer.value, answer.status])).toEqual([
      ['old', 'graced'],
      ['old', 'graced'],
      ['old', 'graced'],
    ]);
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(waited).toBeLessThan(1000);
    // The run goes on behind the answer, and its value is stored (the never-stale write).
    finish('new');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('new'));
    expect(store.calls.set).toBeGreaterThanOrEqual(1);
  });

  it('answers with the refreshed value when the loader beats the soft bound', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new Cache({ store: createChaosStore(), prefix: 'soft-fast:' });
    await cache.remember('k', '1s', () => 'old', { grace: '1h' });
    vi.setSystemTime(Date.now() + 2000);
    const answer = await cache.rememberWithStatus('k', '1s', () => 'new', { grace: '1h', timeout: { soft: '10s' } });
    expect(answer).toMatchObject({ value: 'new', status: 'miss' });
  });

  it('answers with the stale value when the refresh fails before the soft bound', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const cache = new Cache({ store: createChaosStore(), prefix: 'soft-fail:' });
    await cache.remember('k', '1s', () => 'old', { grace: '1h' });
    vi.setSystemTime(Date.now() + 2000);
    const failing = () => Promise.reject(new Error('source down'));
    expect(await cache.remember('k', '1s', failing, { grace: '1h', timeout: { soft: '10s' } })).toBe('old');
  });

  const bad: [string, { soft?: unknown; hard?: unknown }, string][] = [
    ['soft 0', { soft: 0 }, 'E_INVALID_TTL'],
    ['soft -1', { soft: -1 }, 'E_INVALID_TTL'],
    ["soft 'abc'", { soft: 'abc' }, 'E_INVALID_TTL'],
    ['soft equal to hard', { soft: 100, hard: 100 }, 'E_INVALID_ARGUMENT'],
    ['soft above hard', { soft: '2s', hard: '1s' }, 'E_INVALID_ARGUMENT'],
  ];
  it.each(bad)(
    'refuses %s with a typed error before running the loader; nothing stored',
    async (_name, timeout, code) => {
      const cache = new Cache({ store: createChaosStore(), prefix: 'soft-bad:' });
      let runs = 0;
      const loader = () => {
        runs++;
        return 'v';
      };
      await expect(cache.remember('k', '1m', loader, { timeout: timeout as never })).rejects.toMatchObject({ code });
      expect(runs).toBe(0);
      expect(await cache.get('k')).toBeUndefined();
    },
  );
});

describe('remember: lock with a stale value', () => {
  it('an instance that finds the lock taken answers with the stale value and never runs its loader', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = createChaosStore();
    const one = new Cache({ store, prefix: 'lock-stale:' });
    const two = new Cache({ store, prefix: 'lock-stale:' });
    const options = { grace: '1h', lock: { ttl: '30s', wait: '30s' }, timeout: { soft: '5s' } } as const;
    await one.remember('k', '1s', () => 'old', options);
    vi.setSystemTime(Date.now() + 2000);
    let finish: (value: string) => void = () => {};
    let holderRuns = 0;
    const held = one.remember(
      'k',
      '1s',
      () => {
        holderRuns++;
        return new Promise<string>((resolve) => (finish = resolve));
      },
      options,
    );
    await vi.waitFor(() => expect(holderRuns).toBe(1));
    let otherRuns = 0;
    const started = performance.now();
    expect(await two.remember('k', '1s', () => `other${++otherRuns}`, options)).toBe('old');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(otherRuns).toBe(0);
    finish('new');
    expect(await held).toBe('new');
    expect(await two.get('k')).toBe('new');
  });
});

describe('remember: lock with a hard timeout', () => {
  it('a waiter on another instance run rejects with LoaderTimeoutError at the hard bound and never runs its loader', async () => {
    const store = createChaosStore();
    const one = new Cache({ store, prefix: 'lock-hard:' });
    const two = new Cache({ store, prefix: 'lock-hard:' });
    const options = { lock: { ttl: '30s', wait: '30s' }, timeout: { hard: 150 } } as const;
    const holder = one.remember('k', '1m', () => new Promise<string>(() => {}), options);
    const holderStarted = performance.now();
    holder.catch(() => {});
    await vi.waitFor(() => expect(store.calls.add).toBe(1));
    let runs = 0;
    const started = performance.now();
    const error = await two.remember('k', '1m', () => `two${++runs}`, options).catch((caught: unknown) => caught);
    const waited = performance.now() - started;
    expect(error).toMatchObject({ code: 'E_LOADER_TIMEOUT', timeoutMs: 150 });
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1000);
    expect(runs).toBe(0);
    await expect(holder).rejects.toMatchObject({ code: 'E_LOADER_TIMEOUT' });
    // The waiter outlived the holder's run (released at its bound) and still started none.
    expect(started + waited).toBeGreaterThan(holderStarted + 150);
    // The next caller starts a new run at once: the lock is free.
    const next = performance.now();
    expect(await two.remember('k', '1m', () => 'next', options)).toBe('next');
    expect(performance.now() - next).toBeLessThan(100);
  });
});
