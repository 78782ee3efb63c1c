import { describe, expect, it } from 'vitest';
import { Cache } from '../src/cache/cache';
import { createChaosStore } from '../src/testing/chaos-store';
import { tracedTiers } from './helpers/traced-tiers';

describe('L1 in batch reads', () => {
  it('getMany hit events and the trace name the l1 for what the L1 answered', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    await cache.setMany({ a: { n: 1 }, b: 2 });
    // c written by another instance: not in this L1 until read.
    await new Cache({ store, prefix: 'app' }).set('c', 'three');
    const events: [string, string | undefined][] = [];
    cache.on('hit', (event) => events.push([event.key, event.tier]));
    store.resetCalls();
    // a and b from the L1, c from the store, a twice, d a miss.
    expect(await cache.getMany(['a', 'b', 'c', 'a', 'd'])).toEqual([{ n: 1 }, 2, 'three', { n: 1 }, undefined]);
    expect(events).toEqual([
      ['a', 'l1'],
      ['b', 'l1'],
      ['c', 'l2'],
      ['a', 'l1'],
    ]);
    expect(store.calls.getMany ?? 0).toBe(1);
    // c is in the L1 now: the whole batch is answered there, the trace says l1; a batch the store helped with says l2.
    expect(await tracedTiers('getMany', () => cache.getMany(['a', 'c']))).toEqual(['l1']);
    await new Cache({ store, prefix: 'app' }).set('e', 'five');
    expect(await tracedTiers('getMany', () => cache.getMany(['a', 'e']))).toEqual(['l2']);
    expect(await tracedTiers('getMany', () => cache.getMany(['a', 'zz']))).toEqual(['l1']);
    expect(cache.stats().tiers).toMatchObject({ l2: 3 });
    await cache.close();
  });
});
