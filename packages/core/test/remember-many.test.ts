import { Cache, InvalidArgumentError, type LoadMany, SerializationError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { createMemoryStore } from '@larder/memory';
import { describe, expect, it, vi } from 'vitest';

// `rememberMany(keys, ttl, loadMany)`: one read of every key, one `loadMany` call with the
// distinct missing keys, each value stored only if its key still holds what was read, and
// single-flight per key shared with `remember` and other `rememberMany` callers.

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

const stores = [
  ['the chaos store', () => createChaosStore()],
  ['memory (clone)', () => createMemoryStore()],
  ['memory (clone: false)', () => createMemoryStore({ clone: false })],
] as const;

/** A loader that records the keys of every call and returns `v:<key>` for each (aligned array). */
function recording() {
  const calls: string[][] = [];
  const loadMany: LoadMany<string> = (keys) => {
    calls.push([...keys]);
    return keys.map((key) => `v:${key}`);
  };
  return { calls, loadMany };
}

describe.each(stores)('rememberMany on %s', (_, create) => {
  it('1,000 keys with 600 cached: one loadMany call with the 400 missing keys, values aligned', async () => {
    const cache = new Cache({ store: create(), prefix: 'rm:' });
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    await cache.setMany(
      keys.filter((_, i) => i % 5 < 3).map((key) => [key, `cached:${key}`] as const),
      '1m',
    );
    const { calls, loadMany } = recording();
    const values = await cache.rememberMany(keys, '1m', loadMany);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(keys.filter((_, i) => i % 5 >= 3));
    expect(values).toEqual(keys.map((key, i) => (i % 5 < 3 ? `cached:${key}` : `v:${key}`)));
    // Stored: the next call loads nothing.
    expect(await cache.rememberMany(keys, '1m', loadMany)).toEqual(values);
    expect(calls).toHaveLength(1);
    expect(await cache.get('k3')).toBe('v:k3');
  });

  it('concurrent callers over overlapping keys (and a remember) share the loads: each key loaded once', async () => {
    const cache = new Cache({ store: create(), prefix: 'rm:' });
    const gate = deferred<void>();
    const loaded: string[] = [];
    const loadMany: LoadMany<string> = async (keys) => {
      loaded.push(...keys);
      await gate.promise;
      return new Map(keys.map((key) => [key, `v:${key}`]));
    };
    const a = cache.rememberMany(['a', 'b', 'c', 'd'], '1m', loadMany);
    const b = cache.rememberMany(['c', 'd', 'e', 'f', 'e'], '1m', loadMany);
    const single = vi.fn(() => 'from remember');
    await vi.waitFor(() => expect(loaded).toHaveLength(6));
    const c = cache.remember('b', '1m', single);
    setTimeout(() => gate.resolve(), 20);
    expect(await a).toEqual(['v:a', 'v:b', 'v:c', 'v:d']);
    expect(await b).toEqual(['v:c', 'v:d', 'v:e', 'v:f', 'v:e']);
    expect(await c).toBe('v:b');
    expect(single).not.toHaveBeenCalled();
    expect([...loaded].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('a rememberMany joins the flight of a remember loading one of its keys', async () => {
    const cache = new Cache({ store: create(), prefix: 'rm:' });
    const gate = deferred<string>();
    const one = cache.remember('x', '1m', () => gate.promise);
    const { calls, loadMany } = recording();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const many = cache.rememberMany(['x', 'y'], '1m', loadMany);
    await vi.waitFor(() => expect(calls).toEqual([['y']]));
    gate.resolve('from remember');
    expect(await many).toEqual(['from remember', 'v:y']);
    expect(await one).toBe('from remember');
  });

  it('a key rewritten during the load is not overwritten (the loaded value is still returned)', async () => {
    const cache = new Cache({ store: create(), prefix: 'rm:' });
    await cache.set('old', 'before', '1m');
    const values = await cache.rememberMany(['new', 'mine', 'old'], '1m', async (keys) => {
      expect(keys).toEqual(['new', 'mine']);
      await cache.set('new', 'written meanwhile', '1m');
      await cache.set('old', 'rewritten', '1m');
      return { new: 'loaded', mine: 'loaded', old: 'loaded' } as Record<string, string>;
    });
    // `old` was cached: never loaded.
    expect(values).toEqual(['loaded', 'loaded', 'before']);
    expect(await cache.get('new')).toBe('written meanwhile');
    expect(await cache.get('mine')).toBe('loaded');
    expect(await cache.get('old')).toBe('rewritten');
  });

  it('undefined values (and keys a Map or record leaves out) are returned but not cached', async () => {
    const cache = new Cache({ store: create(), prefix: 'rm:' });
    const calls: string[][] = [];
    const values = await cache.rememberMany(['a', 'b', 'c'], '1m', (keys) => {
      calls.push(keys);
      return [undefined, 'vb', undefined];
    });
    expect(values).toEqual([undefined, 'vb', undefined]);
    expect(await cache.has('a')).toBe(false);
    const again = await cache.rememberMany(['a', 'b', 'c'], '1m', (keys) => {
      calls.push(keys);
      return new Map([['c', 'vc']]);
    });
    expect(again).toEqual([undefined, 'vb', 'vc']);
    expect(calls).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
    expect(await cache.has('a')).toBe(false);
    expect(await cache.get('c')).toBe('vc');
  });

  it('bad input rejects with InvalidArgumentError and stores nothing', async () => {
    const cache = new Cache({ store: create(), prefix: 'rm:' });
    const load = (() => ['x']) as LoadMany<string>;
    await expect(cache.rememberMany(['a'], '1m', 'nope' as unknown as LoadMany<string>)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(cache.rememberMany(42 as unknown as string[], '1m', load)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(cache.rememberMany(['a', 7 as unknown as string], '1m', load)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    // An array of the wrong length, or no array, Map or record at all.
    await expect(cache.rememberMany(['a', 'b'], '1m', () => ['only one'])).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const result of [null, 'ab', 42, undefined]) {
      await expect(cache.rememberMany(['a', 'b'], '1m', () => result as unknown as string[])).rejects.toMatchObject({
        code: 'E_INVALID_ARGUMENT',
        argument: 'loadMany',
      });
    }
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    // The flights ended with the failure: the next call loads.
    expect(await cache.rememberMany(['a', 'b'], '1m', (keys) => keys.map((key) => `v:${key}`))).toEqual(['v:a', 'v:b']);
    expect(await cache.rememberMany([], '1m', load)).toEqual([]);
  });
});

describe('rememberMany on the chaos store', () => {
  it('reads every key in one getMany (no get before the load)', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'rm:' });
    await cache.set('a', 1, '1m');
    store.resetCalls();
    let before: Record<string, number> = {};
    await cache.rememberMany(['a', 'b', 'c', 'b'], '1m', (keys) => {
      before = { ...store.calls };
      expect(keys).toEqual(['b', 'c']);
      return keys.map(() => 2);
    });
    expect(before).toMatchObject({ getMany: 1, get: 0 });
    // The writes: no native compareAndSet here, so each is the emulation (lock, get, set).
    expect(store.calls.getMany).toBe(1);
  });

  it('a value the codec refuses rejects the batch before anything is stored', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'rm:' });
    await expect(cache.rememberMany(['ok', 'bad'], '1m', () => ['fine', () => 1])).rejects.toBeInstanceOf(
      SerializationError,
    );
    expect(await cache.get('ok')).toBeUndefined();
  });

  it('with an L1: what it holds answers without a store read', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'rm:', l1: { invalidation: 'none', ttl: '1m' } });
    const { calls, loadMany } = recording();
    expect(await cache.rememberMany(['a', 'b'], '1m', loadMany)).toEqual(['v:a', 'v:b']);
    store.resetCalls();
    expect(await cache.rememberMany(['a', 'b'], '1m', loadMany)).toEqual(['v:a', 'v:b']);
    expect(store.totalCalls()).toBe(0);
    expect(calls).toHaveLength(1);
    await cache.close();
  });

  it('a failed read loads every key and stores nothing', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'rm:' });
    const errors: unknown[] = [];
    cache.on('error', (event) => errors.push(event));
    store.fail({ ops: ['getMany'], times: 1 });
    const { calls, loadMany } = recording();
    expect(await cache.rememberMany(['a', 'b'], '1m', loadMany)).toEqual(['v:a', 'v:b']);
    expect(calls).toEqual([['a', 'b']]);
    expect(errors).toHaveLength(1);
    expect(await store.has('rm:a')).toBe(false);
  });

  it('a tags() view tags what it stores: invalidating the tag reloads', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'rm:' });
    const users = cache.tags(['users']);
    const { calls, loadMany } = recording();
    await users.rememberMany(['u1', 'u2'], '1m', loadMany);
    await users.rememberMany(['u1', 'u2'], '1m', loadMany);
    expect(calls).toHaveLength(1);
    await cache.invalidateTags(['users']);
    await users.rememberMany(['u1', 'u2'], '1m', loadMany);
    expect(calls).toEqual([
      ['u1', 'u2'],
      ['u1', 'u2'],
    ]);
  });
});
