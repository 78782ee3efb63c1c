import { Cache, InvalidKeyError } from '@larder/core';
import { NOT_NOW, readNow, type SyncStoreMethods } from '@larder/core/driver';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';
import { operationChannel } from '../src/util/tracing';

// `readNow` (for larder's own packages): `get` answered within the call on an in-process store
// with a synchronous read, counted and checked as `get` is; `NOT_NOW` wherever only `get` can answer.
type SyncChaosStore = ReturnType<typeof createChaosStore> & SyncStoreMethods;
const cacheOver = (sync: boolean) =>
  new Cache({ store: createChaosStore({ capabilities: { inProcess: sync }, sync }), prefix: 'now:' });

describe('readNow', () => {
  it('answers what get answers on an in-process store with a synchronous read, and counts it the same', async () => {
    const cache = cacheOver(true);
    await cache.set('k', { a: 1 });
    expect(readNow(cache, 'k')).toEqual({ a: 1 });
    expect(readNow(cache, 'absent')).toBeUndefined();
    expect(await cache.get('k')).toEqual({ a: 1 });
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1 });
    // A namespace reads its own keys.
    await cache.namespace('n').set('k', 2);
    expect(readNow(cache.namespace('n'), 'k')).toBe(2);
  });

  it("reads through the store's getSyncShared when shared (no copy), else through getSync", async () => {
    const store = createChaosStore({ capabilities: { inProcess: true }, sync: true }) as SyncChaosStore;
    const shared: string[] = [];
    const sharing = Object.assign(store, {
      getSyncShared: (key: string) => {
        shared.push(key);
        return store.getSync?.(key);
      },
    });
    const cache = new Cache({ store: sharing, prefix: 'now:' });
    await cache.set('k', { a: 1 });
    expect(readNow(cache, 'k')).toEqual({ a: 1 });
    expect(shared).toEqual([]);
    expect(readNow(cache, 'k', true)).toEqual({ a: 1 });
    expect(shared).toEqual(['now:k']);
    expect(cache.stats()).toMatchObject({ hits: 2 });
    // A dropped scope's entry is a miss either way.
    await cache.scope('group').set('s', 'v');
    expect(readNow(cache, 's', true)).toBe('v');
    await cache.scope('group').drop();
    expect(readNow(cache, 's', true)).toBeUndefined();
    // A store without it answers a shared read with getSync.
    expect(readNow(cacheOver(true), 'absent', true)).toBeUndefined();
  });

  it('checks tags and scopes as get does: a dropped scope reads as a miss', async () => {
    const cache = cacheOver(true);
    const scope = cache.scope('group');
    await scope.set('k', 'v');
    expect(readNow(cache, 'k')).toBe('v');
    await scope.drop();
    expect(readNow(cache, 'k')).toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
  });

  it('is NOT_NOW before the store is bound, on a store without a synchronous read, while tracing, and on a failure', async () => {
    // A store given as a promise is bound once it resolves.
    const store = createChaosStore({ capabilities: { inProcess: true }, sync: true });
    const fresh = new Cache({ store: Promise.resolve(store), prefix: 'now:' });
    expect(readNow(fresh, 'k')).toBe(NOT_NOW);
    await fresh.get('k');
    expect(readNow(fresh, 'k')).toBeUndefined();

    const remote = cacheOver(false);
    await remote.set('k', 1);
    expect(readNow(remote, 'k')).toBe(NOT_NOW);
    expect(await remote.get('k')).toBe(1);

    const cache = cacheOver(true);
    await cache.set('k', 1);
    const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    operationChannel.subscribe(handlers);
    try {
      expect(readNow(cache, 'k')).toBe(NOT_NOW);
    } finally {
      operationChannel.unsubscribe(handlers);
    }
    expect(readNow(cache, 'k')).toBe(1);

    // A bad key or a failing store: `get` reports it (rejects here), `readNow` leaves it to `get`.
    expect(readNow(cache, '')).toBe(NOT_NOW);
    await expect(cache.get('')).rejects.toBeInstanceOf(InvalidKeyError);
    const errors = cache.stats().errors;
    ((await cache.getStore()) as ReturnType<typeof createChaosStore>).fail();
    expect(readNow(cache, 'k')).toBe(NOT_NOW);
    expect(cache.stats().errors).toBe(errors);
  });
});
