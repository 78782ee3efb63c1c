import { Cache } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';
import type { CacheDeleteEvent } from '../src/cache/events';

describe('stats().deletes counts only removals', () => {
  it('delete / deleteMany / pull of missing keys do not count; events say whether something was removed', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'd:' });
    const events: CacheDeleteEvent[] = [];
    cache.on('delete', (event) => events.push(event));
    await cache.setMany({ a: 1, b: 2, c: 3 });
    expect(await cache.delete('missing')).toBe(false);
    expect(cache.stats().deletes).toBe(0);
    expect(await cache.delete('a')).toBe(true);
    expect(cache.stats().deletes).toBe(1);
    expect(await cache.deleteMany(['b', 'nope', 'b'])).toBe(1);
    expect(cache.stats().deletes).toBe(2);
    expect(await cache.pull('gone')).toBeUndefined();
    expect(await cache.pull('c')).toBe(3);
    expect(cache.stats().deletes).toBe(3);
    expect(events).toEqual([
      { key: 'missing', deleted: false },
      { key: 'a', deleted: true },
      { key: 'b', deleted: undefined }, // batch delete: only a total is known
      { key: 'nope', deleted: undefined },
      { key: 'c', deleted: true },
    ]);
  });

  it('deleteMany without a driver batch knows each key', async () => {
    const cache = new Cache({ store: createChaosStore({ without: ['deleteMany'] }) });
    const events: CacheDeleteEvent[] = [];
    cache.on('delete', (event) => events.push(event));
    await cache.set('a', 1);
    expect(await cache.deleteMany(['a', 'b'])).toBe(1);
    expect(cache.stats().deletes).toBe(1);
    expect(events).toEqual([
      { key: 'a', deleted: true },
      { key: 'b', deleted: false },
    ]);
  });

  it('a batch where none or all existed reports each key', async () => {
    const cache = new Cache({ store: createChaosStore() });
    const events: CacheDeleteEvent[] = [];
    cache.on('delete', (event) => events.push(event));
    await cache.setMany({ a: 1, b: 2 });
    expect(await cache.deleteMany(['a', 'b'])).toBe(2);
    expect(await cache.deleteMany(['a', 'b'])).toBe(0);
    expect(events.map((e) => e.deleted)).toEqual([true, true, false, false]);
    expect(cache.stats().deletes).toBe(2);
  });
});
