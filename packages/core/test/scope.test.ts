import { describe, expect, it, vi } from 'vitest';
import { Cache } from '../src/cache/cache';
import { isLarderError } from '../src/contract/errors';
import { L1Tier } from '../src/l1/tier';
import { createChaosStore } from '../src/testing/chaos-store';
import { createMapStore } from '../src/testing/map-store';

// Core README "Scopes": a scope is a group carried like a tag (its counter under the reserved `__larder:scope:`).
describe('scope', () => {
  for (const mode of ['sync', 'remote', 'raw'] as const) {
    const store = () =>
      mode === 'raw'
        ? createChaosStore({ capabilities: { rawValues: true, inProcess: true } })
        : mode === 'sync'
          ? createMapStore('map', false)
          : createChaosStore();
    const make = () => new Cache({ store: store(), prefix: 'app' });

    describe(mode, () => {
      it('drop() hides every scoped entry (set, setMany, add, remember, namespaces); entries outside stay', async () => {
        const c = make();
        const s = c.scope('users');
        expect(s.scopeName).toBe('users');
        await s.set('a', 1, '1m');
        await s.setMany({ b: 2, c: 3 }, '1m');
        expect(await s.add('d', 4, '1m')).toBe(true);
        expect(await s.remember('e', '1m', () => 5)).toBe(5);
        await s.namespace('ns').set('f', 6, '1m');
        await c.set('plain', 'p', '1m');
        await c.tags(['users']).set('user-tag', 'u', '1m'); // a user tag named like the scope: another group
        await c.scope('posts').set('post', 'q', '1m');
        expect(await c.getMany(['a', 'b', 'c', 'd', 'e'])).toEqual([1, 2, 3, 4, 5]);
        expect(await c.namespace('ns').get('f')).toBe(6);
        await s.drop();
        expect(await c.getMany(['a', 'b', 'c', 'd', 'e'])).toEqual([
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
        ]);
        expect(await s.get('a')).toBeUndefined();
        expect(await c.has('b')).toBe(false);
        expect(await c.namespace('ns').get('f')).toBeUndefined();
        expect(await c.get('plain')).toBe('p');
        expect(await c.get('user-tag')).toBe('u');
        expect(await c.get('post')).toBe('q');
        // The scope lives on: a write after drop() reads back.
        await s.set('a', 'again', '1m');
        expect(await c.get('a')).toBe('again');
        await c.invalidateTags(['users']);
        expect(await c.get('a')).toBe('again');
        expect(await c.get('user-tag')).toBeUndefined();
      });

      it('combines with tags() and nested scopes: any of its groups invalidates an entry', async () => {
        const c = make();
        const s = c.scope('outer');
        await s.tags(['t']).set('tagged', 1, '1m');
        await c.tags(['t']).scope('outer').set('tagged2', 2, '1m');
        await s.scope('inner').set('nested', 3, '1m');
        await s.set('only', 4, '1m');
        await c.invalidateTags(['t']);
        expect(await c.getMany(['tagged', 'tagged2', 'nested', 'only'])).toEqual([undefined, undefined, 3, 4]);
        await c.scope('inner').drop();
        expect(await c.get('nested')).toBeUndefined();
        expect(await c.get('only')).toBe(4);
        await s.tags(['t']).set('tagged', 5, '1m');
        await s.scope('inner').set('nested', 6, '1m');
        await s.drop();
        expect(await c.getMany(['tagged', 'nested', 'only'])).toEqual([undefined, undefined, undefined]);
      });

      it('a drop() while a remember loader runs wins, even when the loader names tags of its own (setTags)', async () => {
        const c = make();
        for (const named of [undefined, ['late'], ['late', 'later']]) {
          let release = () => {};
          const held = new Promise<void>((resolve) => {
            release = resolve;
          });
          let started = () => {};
          const running = new Promise<void>((resolve) => {
            started = resolve;
          });
          const loading = c.scope('s').remember(`k-${String(named)}`, '1m', async (ctx) => {
            if (named !== undefined) ctx.setTags(named);
            started();
            await held;
            return 'old';
          });
          await running;
          await c.scope('s').drop();
          release();
          expect(await loading).toBe('old');
          expect(await c.get(`k-${String(named)}`)).toBeUndefined();
        }
        // The loader's own tags still take effect on the stored value.
        await c.scope('s').remember('named', '1m', (ctx) => {
          ctx.setTags(['late']);
          return 'v';
        });
        expect(await c.get('named')).toBe('v');
        await c.invalidateTags(['late']);
        expect(await c.get('named')).toBeUndefined();
      });

      it('pin(): writes record the versions read at the pin, so a drop() between pin and write wins', async () => {
        const c = make();
        const early = await c.scope('s').pin('1m');
        await early.set('kept', 1, '1m');
        expect(await c.get('kept')).toBe(1);
        await c.scope('s').drop();
        expect(await c.get('kept')).toBeUndefined();
        // Written after the drop, with the versions from before it: dropped too.
        await early.set('late', 2, '1m');
        await early.setMany({ many: 3 }, '1m');
        expect(await early.add('added', 4, '1m')).toBe(true);
        await early.tags(['t']).set('tagged', 5, '1m');
        await early.namespace('ns').set('nested', 6, '1m');
        expect(await c.getMany(['late', 'many', 'added', 'tagged'])).toEqual([
          undefined,
          undefined,
          undefined,
          undefined,
        ]);
        expect(await c.namespace('ns').get('nested')).toBeUndefined();
        // A pin after the drop writes live entries; tags added on it are read at write time.
        const now = await c.scope('s').pin('1m');
        await now.tags(['t']).set('tagged', 7, '1m');
        await now.set('late', 8);
        expect(await c.getMany(['tagged', 'late'])).toEqual([7, 8]);
        await c.invalidateTags(['t']);
        expect(await c.getMany(['tagged', 'late'])).toEqual([undefined, 8]);
      });

      it('pin() of one scope again: the same view while nothing was dropped, a new one after a drop', async () => {
        const shared = store();
        const c = new Cache({ store: shared, prefix: 'app' });
        const s = c.scope('s');
        const first = await s.pin('1m');
        expect(await s.pin('1m')).toBe(first);
        await c.scope('s').drop(); // another view of the scope drops it
        const second = await s.pin('1m');
        expect(second).not.toBe(first);
        await first.set('old', 1, '1m');
        await second.set('new', 2, '1m');
        expect(await c.getMany(['old', 'new'])).toEqual([undefined, 2]);
        // The counter gone (evicted, expired): the next pin makes it again, and its writes are live.
        await shared.delete('app:__larder:tag:__larder:scope:s');
        const third = await s.pin('1m');
        expect(await s.exists()).toBe(true);
        await third.set('again', 3, '1m');
        expect(await c.get('again')).toBe(3);
        await s.drop();
        expect(await c.get('again')).toBeUndefined();
      });

      it('the same name from another Cache of the prefix is the same scope; another prefix is another', async () => {
        const shared = store();
        const a = new Cache({ store: shared, prefix: 'app' });
        const b = new Cache({ store: shared, prefix: 'app' });
        const other = new Cache({ store: shared, prefix: 'other' });
        await a.scope('s').set('k', 1, '1m');
        await other.scope('s').set('k', 2, '1m');
        await b.scope('s').drop();
        expect(await a.get('k')).toBeUndefined();
        expect(await other.get('k')).toBe(2);
      });
    });
  }

  it('the scope counter sits under the reserved tag namespace; dropping a scope nobody wrote makes no state', async () => {
    const store = createChaosStore();
    const c = new Cache({ store, prefix: 'app' });
    await c.scope('s').set('k', 1, '1m');
    expect(await store.get('app:__larder:tag:__larder:scope:s')).toBeDefined();
    await c.scope('never').drop();
    expect(await store.get('app:__larder:tag:__larder:scope:never')).toBeUndefined();
  });

  it('exists(): false until a write or pin makes the counter, true after a drop of a written scope; rejects on a backend error', async () => {
    const store = createChaosStore();
    const c = new Cache({ store, prefix: 'app', onError: 'miss' });
    const s = c.scope('s');
    expect(await s.exists()).toBe(false);
    await s.drop();
    expect(await s.exists()).toBe(false);
    await s.pin('1m');
    expect(await s.exists()).toBe(true);
    await s.drop();
    expect(await c.scope('s').exists()).toBe(true);
    await c.scope('w').set('k', 1, '1m');
    expect(await c.namespace('other').scope('w').exists()).toBe(true);
    store.fail({ ops: ['get'], times: 1 });
    await expect(s.exists()).rejects.toSatisfy((e) => isLarderError(e, 'E_BACKEND'));
  });

  it('bad names are the typed errors of tags (E_INVALID_TAG); user tags may not take the reserved prefix', async () => {
    const store = createChaosStore();
    const c = new Cache({ store, prefix: 'app' });
    const bad: unknown[] = ['', 'a\u0000b', 'a\u007fb', 'a\u0085b', 'x'.repeat(242), 42, undefined, ['s']];
    for (const name of bad) {
      expect(() => c.scope(name as string)).toThrow(expect.objectContaining({ code: 'E_INVALID_TAG' }));
    }
    expect(c.scope('x'.repeat(241)).scopeName).toHaveLength(241);
    for (const reserved of ['__larder:scope:s', '__larder:x']) {
      expect(() => c.tags([reserved])).toThrow(expect.objectContaining({ code: 'E_INVALID_TAG' }));
      await expect(c.invalidateTags([reserved])).rejects.toSatisfy((e) => isLarderError(e, 'E_INVALID_TAG'));
      await expect(c.remember('k', '1m', () => 1, { tags: [reserved] })).rejects.toSatisfy((e) =>
        isLarderError(e, 'E_INVALID_TAG'),
      );
    }
    // A scope is one of an entry's 64 groups.
    const tags63 = Array.from({ length: 63 }, (_, i) => `t${i}`);
    expect(c.scope('s').tags(tags63)).toBeInstanceOf(Cache);
    expect(() => c.scope('s').tags([...tags63, 't63'])).toThrow(/at most 64/);
    expect(await c.get('k')).toBeUndefined();
  });

  it('taggable(): true with every codec and on a rawValues store; a msgpack scope drops its entries', async () => {
    expect(await new Cache({ store: createChaosStore(), prefix: 'app' }).scope('s').taggable()).toBe(true);
    const raw = createChaosStore({ capabilities: { rawValues: true, inProcess: true } });
    expect(await new Cache({ store: raw, prefix: 'app' }).scope('s').taggable()).toBe(true);
    const packed = new Cache({ store: createChaosStore(), prefix: 'app', codec: 'msgpack' }).scope('s');
    expect(await packed.taggable()).toBe(true);
    await packed.set('k', { a: 1 });
    expect(await packed.get('k')).toEqual({ a: 1 });
    await packed.drop();
    expect(await packed.get('k')).toBeUndefined();
  });

  it('L1: drop() waits for the tier barrier', async () => {
    const c = new Cache({ store: createChaosStore(), prefix: 'app', l1: { invalidation: 'none' } });
    await c.scope('s').set('k', 'v');
    const barrier = vi.spyOn(L1Tier.prototype, 'barrier');
    try {
      await c.scope('s').drop();
      expect(barrier).toHaveBeenCalledTimes(1);
    } finally {
      barrier.mockRestore();
    }
  });

  it('drop() rejects on a backend error whatever onError says', async () => {
    const store = createChaosStore();
    const c = new Cache({ store, prefix: 'app', onError: 'miss' });
    await c.scope('s').set('k', 'v');
    store.fail({ ops: ['increment'], times: 1 });
    await expect(c.scope('s').drop()).rejects.toSatisfy((e) => isLarderError(e, 'E_BACKEND'));
    await c.scope('s').drop();
    expect(await c.get('k')).toBeUndefined();
  });
});
