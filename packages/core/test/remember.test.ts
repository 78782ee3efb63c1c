import { Cache, type CacheErrorEvent } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('remember: single-flight', () => {
  it.each([
    ['a remote-like store', false],
    ['an in-process store', true],
  ])('1,000 concurrent calls on a cold key run the loader once (%s)', async (_name, inProcess) => {
    const store = createChaosStore({ capabilities: { inProcess } });
    const cache = new Cache({ store, prefix: 'sf:' });
    const gate = deferred<string>();
    let runs = 0;
    const loader = () => {
      runs++;
      return gate.promise;
    };
    const calls = Array.from({ length: 1000 }, () => cache.remember('cold', '1m', loader));
    await vi.waitFor(() => expect(runs).toBe(1));
    gate.resolve('built');
    const results = await Promise.all(calls);
    expect(results.every((r) => r === 'built')).toBe(true);
    expect(runs).toBe(1);
    expect(store.calls.set).toBe(1);
    expect(await cache.get('cold')).toBe('built');
  });

  it('1,000 concurrent calls with a synchronous loader run it once', async () => {
    const cache = new Cache({ store: createChaosStore({ capabilities: { inProcess: true } }) });
    let runs = 0;
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        cache.remember('k', '1m', () => {
          runs++;
          return { n: runs };
        }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.every((r) => r.n === 1)).toBe(true);
  });

  it('a hit does not run the loader', async () => {
    const cache = new Cache({ store: createChaosStore() });
    await cache.set('k', 'cached');
    const loader = vi.fn(() => 'fresh');
    expect(await cache.remember('k', '1m', loader)).toBe('cached');
    expect(loader).not.toHaveBeenCalled();
  });

  it('a loader result of undefined is returned but not cached', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store });
    const loader = vi.fn(() => undefined);
    expect(await cache.remember('k', '1m', loader)).toBeUndefined();
    expect(await cache.remember('k', '1m', loader)).toBeUndefined();
    expect(loader).toHaveBeenCalledTimes(2);
    expect(store.calls.set).toBe(0);
  });

  it('a failed flight rejects every waiter; the next call runs the loader again', async () => {
    const cache = new Cache({ store: createChaosStore() });
    const gate = deferred<string>();
    const first = Array.from({ length: 10 }, () => cache.remember('k', '1m', () => gate.promise));
    const boom = new Error('boom');
    gate.reject(boom);
    for (const call of first) await expect(call).rejects.toBe(boom);
    expect(await cache.remember('k', '1m', () => 'ok')).toBe('ok');
  });

  it('stores for the TTL; rememberForever stores with no expiry', async () => {
    const store = createChaosStore();
    const setSpy = vi.spyOn(store, 'set');
    const cache = new Cache({ store, ttl: '1h' });
    await cache.remember('a', '30s', () => 1);
    await cache.remember('b', undefined, () => 1);
    await cache.rememberForever('c', () => 1);
    expect(setSpy.mock.calls.map((call) => call[2])).toEqual([30_000, 3_600_000, undefined]);
  });

  it('namespaces share the in-flight map only for the same full key', async () => {
    const cache = new Cache({ store: createChaosStore() });
    const a = cache.namespace('a');
    const b = cache.namespace('b');
    const [x, y] = await Promise.all([a.remember('k', '1m', () => 'A'), b.remember('k', '1m', () => 'B')]);
    expect([x, y]).toEqual(['A', 'B']);
  });
});

describe('remember: grace', () => {
  const start = new Date('2030-01-01T00:00:00Z').getTime();

  const setup = async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'g:' });
    const errors: CacheErrorEvent[] = [];
    cache.on('error', (event) => errors.push(event));
    expect(await cache.remember('k', '1m', () => 'v1', { grace: '1h' })).toBe('v1');
    return { store, cache, errors };
  };

  it('stores the value for ttl + grace with its logical expiry inside', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    const store = createChaosStore();
    const setSpy = vi.spyOn(store, 'set');
    const cache = new Cache({ store });
    await cache.remember('k', '1m', () => 'v1', { grace: '1h' });
    expect(setSpy.mock.calls[0]?.[2]).toBe(60_000 + 3_600_000);
    expect(await cache.get('k')).toBe('v1'); // fresh: plain get unwraps it
    vi.setSystemTime(start + 61_000);
    expect(await cache.get('k')).toBeUndefined(); // past its TTL: a plain get misses
  });

  it('within grace: serves the stale value at once while ONE background refresh runs', async () => {
    const { cache } = await setup();
    vi.setSystemTime(start + 61_000);
    const gate = deferred<string>();
    let runs = 0;
    const loader = () => {
      runs++;
      return gate.promise;
    };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => cache.remember('k', '1m', loader, { grace: '1h' })),
    );
    expect(answers.every((a) => a === 'v1')).toBe(true);
    await vi.waitFor(() => expect(runs).toBe(1));
    gate.resolve('v2');
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('v2'));
    expect(runs).toBe(1);
    expect(await cache.remember('k', '1m', loader, { grace: '1h' })).toBe('v2');
    expect(runs).toBe(1);
  });

  it('serves the stale value when the loader fails, and keeps it', async () => {
    const { cache, errors } = await setup();
    vi.setSystemTime(start + 61_000);
    const boom = new Error('db down');
    const failing = vi.fn(() => Promise.reject(boom));
    expect(await cache.remember('k', '1m', failing, { grace: '1h' })).toBe('v1');
    // The loader's own error is reported as is (it is not a backend failure).
    await vi.waitFor(() =>
      expect(errors.some((e) => e.error === boom && e.operation === 'remember.loader')).toBe(true),
    );
    expect(failing).toHaveBeenCalledTimes(1);
    // Still there for the next caller, which triggers a new refresh.
    expect(await cache.remember('k', '1m', () => 'v2', { grace: '1h' })).toBe('v1');
    await vi.waitFor(async () => expect(await cache.remember('k', '1m', failing, { grace: '1h' })).toBe('v2'));
  });

  it('serves the stale value when the backend fails during the refresh', async () => {
    const { store, cache, errors } = await setup();
    vi.setSystemTime(start + 61_000);
    store.fail({ ops: ['set'] });
    const loader = vi.fn(() => 'v2');
    expect(await cache.remember('k', '1m', loader, { grace: '1h' })).toBe('v1');
    await vi.waitFor(() => expect(errors.some((e) => e.operation === 'remember')).toBe(true));
    expect(loader).toHaveBeenCalledTimes(1);
    expect(await cache.remember('k', '1m', loader, { grace: '1h' })).toBe('v1');
    store.heal();
    await vi.waitFor(async () => expect(await cache.get('k')).toBe('v2'));
  });

  it('serves the last graced value when the backend read itself fails, within grace', async () => {
    const { store, cache, errors } = await setup();
    store.fail();
    const loader = vi.fn(() => 'v2');
    expect(await cache.remember('k', '1m', loader, { grace: '1h' })).toBe('v1'); // still fresh
    vi.setSystemTime(start + 61_000);
    expect(await cache.remember('k', '1m', loader, { grace: '1h' })).toBe('v1'); // stale, within grace
    expect(loader).not.toHaveBeenCalled();
    expect(errors.every((e) => e.operation === 'remember')).toBe(true);
    expect(errors).toHaveLength(2);
    vi.setSystemTime(start + 60_000 + 3_600_000 + 1);
    expect(await cache.remember('k', '1m', loader, { grace: '1h' })).toBe('v2'); // past grace: the loader
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('without grace, a failing backend read means the loader runs', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store });
    await cache.remember('k', '1m', () => 'v1');
    store.fail();
    expect(await cache.remember('k', '1m', () => 'v2')).toBe('v2');
  });

  it('serves the stale value when the lock backend fails during the refresh', async () => {
    const { store, cache } = await setup();
    vi.setSystemTime(start + 61_000);
    store.fail({ ops: ['add'] });
    const loader = vi.fn(() => 'v2');
    expect(await cache.remember('k', '1m', loader, { grace: '1h', lock: true })).toBe('v1');
    // The refresh ran the loader but, the backend being down, did not write.
    await vi.waitFor(() => expect(loader).toHaveBeenCalledTimes(1));
    store.heal();
    await vi.waitFor(async () => {
      expect(await cache.remember('k', '1m', loader, { grace: '1h', lock: true })).toBe('v2');
    });
  });

  it('past the grace period the loader runs before answering', async () => {
    const { cache } = await setup();
    vi.setSystemTime(start + 60_000 + 3_600_000 + 1);
    expect(await cache.remember('k', '1m', () => 'v2', { grace: '1h' })).toBe('v2');
  });

  it('values stored without grace are read by remember with grace, and the reverse', async () => {
    const cache = new Cache({ store: createChaosStore() });
    await cache.set('plain', 'p');
    expect(await cache.remember('plain', '1m', () => 'x', { grace: '1h' })).toBe('p');
    await cache.remember('graced', '1m', () => 'g', { grace: '1h' });
    expect(await cache.remember('graced', '1m', () => 'x')).toBe('g');
    expect(await cache.getMany(['plain', 'graced'])).toEqual(['p', 'g']);
    expect(await cache.pull('graced')).toBe('g');
  });
});

describe('remember: lock (cross-process)', () => {
  it('two caches sharing one store run the loader once', async () => {
    const store = createChaosStore();
    const one = new Cache({ store, prefix: 'x:' });
    const two = new Cache({ store, prefix: 'x:' });
    const gate = deferred<string>();
    let runs = 0;
    const loader = () => {
      runs++;
      return gate.promise;
    };
    const calls = [one, two].flatMap((cache) =>
      Array.from({ length: 25 }, () => cache.remember('report', '1m', loader, { lock: true })),
    );
    await vi.waitFor(() => expect(runs).toBe(1));
    gate.resolve('built');
    const results = await Promise.all(calls);
    expect(results.every((r) => r === 'built')).toBe(true);
    expect(runs).toBe(1);
    expect(await store.has!('x:__larder:remember:report')).toBe(false); // released
  });

  it('a waiter runs the loader itself when the lock wait ends', async () => {
    const store = createChaosStore();
    const one = new Cache({ store });
    const two = new Cache({ store });
    const stuck = deferred<string>();
    const first = one.remember('k', '1m', () => stuck.promise, { lock: { wait: '10s' } });
    await vi.waitFor(async () => expect(await store.has!('__larder:remember:k')).toBe(true));
    const started = Date.now();
    expect(await two.remember('k', '1m', () => 'mine', { lock: { wait: 80 } })).toBe('mine');
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    stuck.resolve('late');
    expect(await first).toBe('late');
  });

  it('a waiter takes over when the holder dies and its lock expires', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store });
    // A process that took the lock and crashed.
    expect(await store.add!('__larder:remember:k', '"crashed-owner"', 60)).toBe(true);
    const loader = vi.fn(() => 'v');
    expect(await cache.remember('k', '1m', loader, { lock: { wait: '5s' } })).toBe('v');
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('a waiter returns the value the holder stored, without running its loader', async () => {
    const store = createChaosStore();
    const one = new Cache({ store });
    const two = new Cache({ store });
    const gate = deferred<string>();
    const first = one.remember('k', '1m', () => gate.promise, { lock: true });
    await vi.waitFor(async () => expect(await store.has!('__larder:remember:k')).toBe(true));
    const loader = vi.fn(() => 'other');
    const second = two.remember('k', '1m', loader, { lock: true });
    await vi.waitFor(() => expect(store.calls.get).toBeGreaterThan(4)); // it is polling
    gate.resolve('holder');
    expect(await second).toBe('holder');
    expect(await first).toBe('holder');
    expect(loader).not.toHaveBeenCalled();
  });

  it('lock: true needs an atomic add', async () => {
    const cache = new Cache({ store: createChaosStore({ without: ['add'] }) });
    await expect(cache.remember('k', '1m', () => 1, { lock: true })).rejects.toMatchObject({
      code: 'E_UNSUPPORTED_OPERATION',
    });
  });
});
