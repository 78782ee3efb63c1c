import { Cache } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';
import type { CacheKeyEvent } from '../src/cache/events';

describe('events and stats', () => {
  it('emits hit, miss, write and delete with the key (namespace path included, prefix excluded)', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'app:' });
    const seen: string[] = [];
    const record = (type: string) => (event: CacheKeyEvent) => seen.push(`${type} ${event.key}`);
    cache
      .on('hit', record('hit'))
      .on('miss', record('miss'))
      .on('write', record('write'))
      .on('delete', record('delete'));
    const users = cache.namespace('users');
    await users.set('1', 'ann');
    await users.get('1');
    await users.get('2');
    await cache.getMany(['users:1', 'nope']);
    await users.delete('1');
    await cache.setMany({ a: 1, b: 2 });
    await cache.remember('r', '1m', () => 1);
    await cache.remember('r', '1m', () => 1);
    expect(seen).toEqual([
      'write users:1',
      'hit users:1',
      'miss users:2',
      'hit users:1',
      'miss nope',
      'delete users:1',
      'write a',
      'write b',
      'miss r',
      'write r',
      'hit r',
    ]);
  });

  it('counts in stats(), shared by namespaces', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'p:' });
    const ns = cache.namespace('ns');
    await ns.set('a', 1);
    await ns.get('a');
    await cache.get('zz');
    await ns.delete('a');
    await cache.increment('n');
    store.fail({ times: 1 });
    await cache.get('x').catch(() => undefined);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, writes: 2, deletes: 1, errors: 1 });
    expect(ns.stats()).toEqual(cache.stats());
    const snapshot = cache.stats();
    snapshot.hits = 100;
    expect(cache.stats().hits).toBe(1);
  });

  it('off removes a listener', async () => {
    const cache = new Cache({ store: createChaosStore() });
    const listener = vi.fn();
    cache.on('miss', listener);
    await cache.get('a');
    cache.off('miss', listener);
    await cache.get('a');
    expect(listener).toHaveBeenCalledTimes(1);
    cache.off('miss', listener); // removing twice is harmless
  });

  it('a throwing listener does not break the operation', async () => {
    const cache = new Cache({ store: createChaosStore() });
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    cache.on('write', () => {
      throw new Error('listener bug');
    });
    await expect(cache.set('a', 1)).resolves.toBeUndefined();
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining('listener bug'));
    warnings.mockRestore();
  });

  it('error events carry operation, key and the wrapped error', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, onError: 'miss' });
    const listener = vi.fn();
    cache.on('error', listener);
    store.fail({ ops: ['set'], times: 1 });
    await cache.set('k', 1);
    expect(listener).toHaveBeenCalledWith({
      operation: 'set',
      key: 'k',
      error: expect.objectContaining({ code: 'E_BACKEND', driver: 'chaos' }),
    });
  });
});

describe('chaos store', () => {
  it('counts calls, fails a number of times, and heals', async () => {
    const store = createChaosStore();
    store.fail({ ops: ['get'], times: 2 });
    await expect(store.get('a')).rejects.toThrow('chaos: get failed');
    await expect(store.get('a')).rejects.toThrow();
    await expect(store.get('a')).resolves.toBeUndefined();
    await store.set('a', 'x', undefined);
    expect(store.calls.get).toBe(3);
    expect(store.calls.set).toBe(1);
    expect(store.totalCalls()).toBe(4);
    store.resetCalls();
    expect(store.totalCalls()).toBe(0);
  });

  it('hangs calls until heal, then lets them run', async () => {
    const store = createChaosStore();
    store.hang({ ops: ['set'] });
    const pending = store.set('a', 'x', undefined);
    await vi.waitFor(() => expect(store.hanging).toBe(1));
    store.heal();
    await pending;
    expect(store.hanging).toBe(0);
    expect(await store.get('a')).toBe('x');
  });

  it('can leave out optional methods and wrap another store', async () => {
    const inner = createChaosStore();
    const store = createChaosStore({ store: inner, without: ['add', 'getMany'] });
    expect(store.add).toBeUndefined();
    expect(store.getMany).toBeUndefined();
    expect(store.capabilities.atomicAdd).toBe(false);
    await store.set('a', 'x', undefined);
    expect(inner.calls.set).toBe(1);
  });
});
