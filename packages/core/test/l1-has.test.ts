import { describe, expect, it } from 'vitest';
import { Cache } from '../src/cache/cache';
import { createChaosStore } from '../src/testing/chaos-store';
import { tracedTiers } from './helpers/traced-tiers';

describe('L1 and has()', () => {
  it('has() answers from a live L1 entry with no store call, else asks the store', async () => {
    const store = createChaosStore();
    const cache = new Cache({ store, prefix: 'app', l1: { invalidation: 'none' } });
    await cache.set('k', { a: 1 });
    await cache.get('k');
    store.resetCalls();
    expect(await cache.has('k')).toBe(true);
    expect(await tracedTiers('has', () => cache.has('k'))).toEqual(['l1']);
    expect(store.totalCalls()).toBe(0);
    // Not held by the L1: the store answers.
    expect(await cache.has('missing')).toBe(false);
    // Written by another instance: not in this L1.
    await new Cache({ store, prefix: 'app' }).set('other', 1);
    store.resetCalls();
    expect(await cache.has('other')).toBe(true);
    expect(store.totalCalls()).toBe(1);
    // has() counts no hit.
    const { hits } = cache.stats();
    await cache.has('k');
    expect(cache.stats().hits).toBe(hits);
    // Dropped from the L1 by a delete: the store answers false.
    await cache.delete('k');
    expect(await cache.has('k')).toBe(false);
    await cache.close();
  });
});
