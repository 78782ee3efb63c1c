import { describe, expect, it, vi } from 'vitest';
import { Cache } from '../src/cache/cache';
import { L1Entries } from '../src/l1/entries';
import { L1TagIndex } from '../src/l1/tag-index';
import { createChaosStore } from '../src/testing/chaos-store';

// The L1's index from tag to entries keeps evicted entries until it is rebuilt by a walk of the L1.
describe('L1 tag index', () => {
  it('rebuilds at most once per 1,024 additions when the entries held carry more tags than the first bound', async () => {
    const maxEntries = 1000;
    const tagsPerEntry = 5; // 5,000 index members held > the first bound (2 * 1,000 + 1,024)
    const cache = new Cache({ store: createChaosStore(), prefix: 'idx', l1: { invalidation: 'none', maxEntries } });
    const walks = vi.spyOn(L1Entries.prototype, 'each');
    const writes = 20 * maxEntries;
    try {
      for (let n = 0; n < writes; n++) {
        const tags = ['all', `a:${n % 7}`, `b:${n % 11}`, `c:${n % 13}`, `own:${n}`];
        await cache.tags(tags).set(`k${n}`, n, '1h');
      }
      // Each write fills the L1 and adds its tags to the index. Before the bound grew with what a
      // rebuild keeps, every fill past the bound walked the whole L1 (about 19,000 walks here).
      expect(walks.mock.calls.length).toBeLessThanOrEqual(Math.ceil((writes * tagsPerEntry) / 1024));
      expect((await cache.describeL1())?.entries).toBe(maxEntries);
      // The index still finds every held entry of a tag: the newest 1,000 keys are held.
      const held = Array.from({ length: maxEntries }, (_, i) => writes - maxEntries + i);
      const inB3 = held.filter((n) => n % 11 === 3);
      const hitsBefore = (await cache.describeL1())?.hits ?? 0;
      for (const n of held) expect(await cache.get(`k${n}`)).toBe(n);
      await cache.invalidateTags(['b:3']);
      for (const n of inB3) expect(await cache.get(`k${n}`)).toBeUndefined();
      const others = held.filter((n) => n % 11 !== 3);
      for (const n of others) expect(await cache.get(`k${n}`)).toBe(n);
      expect(((await cache.describeL1())?.hits ?? 0) - hitsBefore).toBe(maxEntries + others.length);
    } finally {
      walks.mockRestore();
      await cache.close();
    }
  });

  it('indexes a rewrite with the same tags once, and an invalidation of one of them still drops its copy', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'same', l1: { invalidation: 'none' } });
    const adds = vi.spyOn(L1TagIndex.prototype, 'add');
    try {
      await cache.tags(['a', 'b']).set('k', 1, '1h');
      // The same list in another order and another array: one tag list, indexed once.
      await cache.tags(['b', 'a']).set('k', 2, '1h');
      await cache.tags(['a', 'b']).set('k', 3, '1h');
      expect(adds).toHaveBeenCalledTimes(1);
      const hits = (await cache.describeL1())?.hits ?? 0;
      expect(await cache.get('k')).toBe(3);
      expect((await cache.describeL1())?.hits).toBe(hits + 1);
      await cache.invalidateTags(['b']);
      expect((await cache.describeL1())?.entries).toBe(0);
      expect(await cache.get('k')).toBeUndefined();
    } finally {
      adds.mockRestore();
      await cache.close();
    }
  });

  it('indexes a rewrite again when the index was rebuilt while it was in flight', async () => {
    const store = createChaosStore();
    const maxEntries = 10; // first bound: 2 * 10 + 1,024 index members
    const cache = new Cache({ store, prefix: 'rebuilt', l1: { invalidation: 'none', maxEntries } });
    const walks = vi.spyOn(L1Entries.prototype, 'each');
    try {
      await cache.tags(['x']).set('k', 1, '1h');
      store.hang({ ops: ['set'] });
      // Drops the copy indexed under x; the index forgets it in the rebuild below.
      const rewrite = cache.tags(['x']).set('k', 2, '1h');
      await vi.waitFor(() => expect(store.hanging).toBe(1));
      const others = Array.from({ length: 500 }, (_, i) => [`o${i}`, i] as const);
      for (let i = 0; i < others.length; i += 10) {
        await cache.tags(['y', 'z', `own:${i}`]).setMany(others.slice(i, i + 10), '1h');
      }
      expect(walks).toHaveBeenCalled();
      store.heal();
      await rewrite;
      expect(await cache.get('k')).toBe(2);
      await cache.invalidateTags(['x']);
      // Indexed again under x: an L1 copy left out of the index would answer 2 here.
      expect(await cache.get('k')).toBeUndefined();
    } finally {
      walks.mockRestore();
      await cache.close();
    }
  });
});
