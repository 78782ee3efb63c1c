import { describe, expect, it, vi } from 'vitest';
import { Cache } from '../src/cache/cache';
import { isLarderError } from '../src/contract/errors';
import type { CacheStore } from '../src/contract/store';
import { L1Tier } from '../src/l1/tier';
import { createChaosStore } from '../src/testing/chaos-store';
import { createMapStore } from '../src/testing/map-store';
import { localBus, withBus } from './helpers/local-bus';

const TAG_KEY = 'app:__larder:tag:';

describe('tags', () => {
  // A rawValues store keeps values as given: tagged entries as envelopes (tags/tagged-envelope.ts).
  for (const mode of ['sync', 'remote', 'raw'] as const) {
    const sync = mode !== 'remote';
    const title = {
      sync: 'in-process store (getSync)',
      remote: 'remote-like store',
      raw: 'rawValues store (envelopes)',
    };
    describe(title[mode], () => {
      const store = () =>
        mode === 'raw'
          ? createChaosStore({ capabilities: { rawValues: true, inProcess: true } })
          : sync
            ? createMapStore('map', false)
            : createChaosStore();
      const make = () => new Cache({ store: store(), prefix: 'app' });

      it('a tagged entry reads through any view until one of its tags is invalidated (hard: a miss)', async () => {
        const c = make();
        const users = c.tags(['users', 'user:1']);
        await users.set('profile', { name: 'ada' }, '1m');
        await users.setMany({ a: 1, b: 2 }, '1m');
        expect(await c.get('profile')).toEqual({ name: 'ada' });
        expect(await c.getMany(['a', 'b', 'profile'])).toEqual([1, 2, { name: 'ada' }]);
        expect(await c.has('a')).toBe(true);
        await c.invalidateTags(['user:1']);
        expect(await c.get('profile')).toBeUndefined();
        expect(await c.getMany(['a', 'b', 'profile'])).toEqual([undefined, undefined, undefined]);
        expect(await c.has('a')).toBe(false);
        expect(await c.pull('b')).toBeUndefined();
        expect(await c.remember('profile', '1m', () => 'fresh')).toBe('fresh');
        expect(await c.get('profile')).toBe('fresh');
      });

      it('tag order and duplicates do not matter; other tags are untouched', async () => {
        const c = make();
        await c.tags(['b', 'a', 'a']).set('k', 1);
        await c.tags(['c']).set('other', 2);
        await c.invalidateTags(['a', 'a']);
        expect(await c.get('k')).toBeUndefined();
        expect(await c.get('other')).toBe(2);
      });

      it('soft: a get misses; remember with grace serves the old value as graced and refreshes', async () => {
        const c = make();
        await c.remember('page', '1m', () => 'v1', { tags: ['pages'] });
        await c.invalidateTags(['pages'], { soft: true });
        expect(await c.get('page')).toBeUndefined();
        expect(await c.has('page')).toBe(false);
        const graced = await c.rememberWithStatus('page', '1m', () => 'v2', { tags: ['pages'], grace: '1m' });
        expect(graced).toMatchObject({ value: 'v1', status: 'graced' });
        await expect.poll(() => c.get('page')).toBe('v2');
        await c.invalidateTags(['pages'], { soft: true });
        // Without grace: a miss, the loader's value is stored over it.
        expect(await c.remember('page', '1m', () => 'v3', { tags: ['pages'] })).toBe('v3');
        expect(await c.get('page')).toBe('v3');
      });

      it('a missing counter (evicted, expired, flushed) reads as a miss: tags fail closed', async () => {
        const store = sync ? createMapStore('map', false) : createChaosStore();
        const c = new Cache({ store, prefix: 'app' });
        await c.tags(['t']).set('k', 'v');
        expect(await c.get('k')).toBe('v');
        expect(await store.delete(`${TAG_KEY}t`)).toBe(true);
        expect(await c.get('k')).toBeUndefined();
        expect(await c.getMany(['k'])).toEqual([undefined]);
        // Invalidating a missing tag does not make it again.
        await c.invalidateTags(['t']);
        expect(await store.get(`${TAG_KEY}t`)).toBeUndefined();
        await c.tags(['t']).set('k', 'again');
        expect(await c.get('k')).toBe('again');
      });

      it('a loader overlapping an invalidation of its tag is never kept', async () => {
        const c = make();
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const loading = c.remember(
          'k',
          '1m',
          async () => {
            await gate;
            return 'old';
          },
          { tags: ['t'] },
        );
        await new Promise((resolve) => setTimeout(resolve, 5));
        await c.invalidateTags(['t']);
        release();
        expect(await loading).toBe('old');
        expect(await c.get('k')).toBeUndefined();
      });

      it('the counter outlives the entry; through namespaces too', async () => {
        const held = store();
        const c = new Cache({ store: held, prefix: 'app' });
        await c.namespace('users').tags(['t']).set('k', 'v', 200);
        expect(await c.namespace('users').get('k')).toBe('v');
        await new Promise((resolve) => setTimeout(resolve, 250));
        expect(await c.namespace('users').get('k')).toBeUndefined();
        expect(await held.get(`${TAG_KEY}t`)).toBeDefined();
        await c.namespace('users').tags(['t']).set('k', 'v2');
        await c.invalidateTags(['t']);
        expect(await c.namespace('users').get('k')).toBeUndefined();
      });
    });
  }

  it('a store without getWithTags: a tagged hit is one getMany (entry + counters) once this process read it', async () => {
    const store = createChaosStore();
    const writer = new Cache({ store, prefix: 'app' });
    await writer.tags(['a', 'b']).set('k', 'v');
    await writer.set('plain', 'p');
    const reader = new Cache({ store, prefix: 'app' });
    const calls = () => store.calls.get + store.calls.getMany;
    let before = calls();
    expect(await reader.get('plain')).toBe('p');
    expect(calls() - before).toBe(1);
    before = calls();
    expect(await reader.get('k')).toBe('v');
    expect(calls() - before).toBe(2); // the entry, then its counters
    before = calls();
    expect(await reader.get('k')).toBe('v');
    expect(calls() - before).toBe(1); // one batch: the entry and the counters it carried
    await writer.invalidateTags(['b']);
    before = calls();
    expect(await reader.get('k')).toBeUndefined();
    expect(calls() - before).toBe(1);
  });

  it('a store without getWithTags: getMany of tagged entries read or written before is one store call', async () => {
    const store = createChaosStore();
    const writer = new Cache({ store, prefix: 'app' });
    await writer.tags(['a']).setMany({ x: 1, y: 2 });
    await writer.tags(['b']).set('z', 3);
    await writer.set('p', 4);
    // Its own writes told it which counters to read with the entries.
    const calls = () => store.calls.get + store.calls.getMany;
    let before = calls();
    expect(await writer.getMany(['x', 'y', 'z', 'p'])).toEqual([1, 2, 3, 4]);
    expect(calls() - before).toBe(1);
    const c = new Cache({ store, prefix: 'app' });
    before = calls();
    expect(await c.getMany(['x', 'y', 'z', 'p'])).toEqual([1, 2, 3, 4]);
    expect(calls() - before).toBe(2); // first read in this cache: the entries, then their counters
    before = calls();
    expect(await c.getMany(['x', 'y', 'z', 'p'])).toEqual([1, 2, 3, 4]);
    expect(calls() - before).toBe(1);
    await c.invalidateTags(['a']);
    before = calls();
    expect(await c.getMany(['x', 'y', 'z', 'p'])).toEqual([undefined, undefined, 3, 4]);
    expect(calls() - before).toBe(1);
  });

  for (const native of [true, false]) {
    it(`compareAndSet (${native ? 'native' : 'emulated'}): a hard-invalidated tagged entry is absent`, async () => {
      const inner = createChaosStore();
      const store: CacheStore = Object.create(inner);
      if (!native) Object.assign(store, { compareAndSet: undefined });
      const c = new Cache({ store, prefix: 'app' });
      await c.tags(['t']).set('a', 'old');
      await c.tags(['t']).set('b', 'old');
      await c.invalidateTags(['t']);
      expect(await c.compareAndSet('a', 'old', 'new')).toBe(false);
      expect(await c.compareAndSet('b', undefined, 'new')).toBe(true);
      expect(await c.get('b')).toBe('new');
      // remember replaces the invalidated entry it read (the exact bytes it expected).
      expect(await c.remember('a', '1m', () => 'loaded')).toBe('loaded');
      expect(await c.get('a')).toBe('loaded');
    });
  }

  it('an empty tag list writes an untagged entry', async () => {
    const c = new Cache({ store: createChaosStore(), prefix: 'app' });
    await c.tags([]).set('k', 1);
    expect(await c.get('k')).toBe(1);
    expect(await c.remember('r', '1m', () => 2, { tags: [] })).toBe(2);
    expect(await c.get('r')).toBe(2);
  });

  it('rawValues store: tagged entries are envelopes; reads as untagged ones, add/increment/compareAndSet see them as documented', async () => {
    const c = new Cache({
      store: createChaosStore({ capabilities: { rawValues: true, inProcess: true }, sync: true }),
      prefix: 'app',
    });
    // This store keeps references (as the memory driver's `clone: false`): a tagged value is kept as
    // given, like an untagged one; a copying store copies both (packages/memory/test).
    const tagged = { name: 'ada' };
    const untagged = { name: 'bob' };
    await c.tags(['t']).set('k', tagged);
    await c.set('u0', untagged);
    expect(await c.get('k')).toBe(tagged);
    expect(await c.get('u0')).toBe(untagged);
    await c.invalidateTags(['t']);
    expect(await c.get('k')).toBeUndefined();
    await c.tags(['n']).set('n', 5);
    expect(await c.increment('n')).toBe(6);
    await c.tags(['s']).set('s', 'a');
    expect(await c.compareAndSet('s', 'a', 'b')).toBe(true);
    expect(await c.get('s')).toBe('b');
    await c.tags(['g']).set('g1', 1);
    await c.tags(['g']).set('g2', 1);
    await c.tags(['g']).set('g3', 1);
    await c.invalidateTags(['g']);
    expect(await c.add('g1', 2)).toBe(true);
    expect(await c.get('g1')).toBe(2);
    expect(await c.increment('g2')).toBe(1);
    expect(await c.compareAndSet('g3', undefined, 'x')).toBe(true);
    expect(await c.get('g3')).toBe('x');
    // A user object with the reserved key but not an encoded entry's text is the user's value.
    const lookalike = { '\u0000larder:tagged': 'not an entry' };
    await c.set('u', lookalike);
    expect(await c.get('u')).toEqual(lookalike);
  });

  it('a binary value cannot be tagged: a typed UnsupportedOperationError, nothing stored', async () => {
    const c = new Cache({ store: createChaosStore(), prefix: 'app' });
    for (const value of [Buffer.from('abcd'), new Uint8Array([1, 2, 3])]) {
      await expect(c.tags(['t']).set('bin', value)).rejects.toSatisfy(
        (e) => isLarderError(e, 'E_UNSUPPORTED_OPERATION') && /binary value/.test((e as Error).message),
      );
      await expect(c.remember('bin', '1m', () => value, { tags: ['t'] })).rejects.toSatisfy((e) =>
        isLarderError(e, 'E_UNSUPPORTED_OPERATION'),
      );
      expect(await c.get('bin')).toBeUndefined();
    }
    await c.set('bin', Buffer.from('abcd'));
    expect(await c.get('bin')).toEqual(Buffer.from('abcd'));
  });

  it('bad tags are typed errors and store nothing', async () => {
    const store = createChaosStore();
    const c = new Cache({ store, prefix: 'app' });
    const bad: unknown[] = [
      [''],
      ['a\u0000b'],
      ['x'.repeat(10_000)],
      ['ok', 3],
      'users',
      Array(10_000)
        .fill(0)
        .map((_, i) => `t${i}`),
    ];
    for (const tags of bad) {
      expect(() => c.tags(tags as string[])).toThrow(expect.objectContaining({ code: 'E_INVALID_TAG' }));
      await expect(c.remember('k', '1m', () => 1, { tags: tags as string[] })).rejects.toSatisfy((e) =>
        isLarderError(e, 'E_INVALID_TAG'),
      );
      await expect(c.invalidateTags(tags as string[])).rejects.toSatisfy((e) => isLarderError(e, 'E_INVALID_TAG'));
    }
    expect(c.tags(Array.from({ length: 64 }, (_, i) => `t${i}`))).toBeInstanceOf(Cache);
    expect(() => c.tags(Array.from({ length: 65 }, (_, i) => `t${i}`))).toThrow(/at most 64/);
    expect(await c.get('k')).toBeUndefined();
    const keys: string[] = [];
    for await (const key of store.keys?.('') ?? []) keys.push(key);
    expect(keys).toEqual([]);
  });

  // A scope (scope.test.ts) is a tag with a reserved name: its drop() takes the same path.
  const groups = [
    { name: 'invalidateTags', view: (c: Cache) => c.tags(['t']), drop: (c: Cache) => c.invalidateTags(['t']) },
    { name: "a scope's drop()", view: (c: Cache) => c.scope('s'), drop: (c: Cache) => c.scope('s').drop() },
  ];
  for (const group of groups) {
    it(`L1: ${group.name} drops this process tagged copies at once and other instances through the bus`, async () => {
      const inner = createChaosStore();
      const bus = localBus().source;
      const l1 = { invalidation: 'bus', busUrl: 'redis://x' } as const;
      const a = new Cache({ store: withBus(inner, bus), prefix: 'app', l1 });
      const b = new Cache({ store: withBus(inner, bus), prefix: 'app', l1 });
      await group.view(a).set('k', 'v');
      await a.set('plain', 'p');
      expect(await b.get('k')).toBe('v');
      expect(await b.get('plain')).toBe('p');
      const before = inner.calls.get;
      expect(await a.get('k')).toBe('v');
      expect(await b.get('k')).toBe('v');
      expect(inner.calls.get).toBe(before); // both from the L1
      await group.drop(a);
      expect(await a.get('k')).toBeUndefined();
      expect(await b.get('k')).toBeUndefined();
      expect(await b.get('plain')).toBe('p');
    });
  }

  it('L1: invalidateTags, hard or soft, waits for the tier barrier', async () => {
    const c = new Cache({ store: createChaosStore(), prefix: 'app', l1: { invalidation: 'none' } });
    await c.tags(['t']).set('k', 'v');
    // Soft waits too: another instance's L1 copy would otherwise be served as fresh, not as graced.
    const barrier = vi.spyOn(L1Tier.prototype, 'barrier');
    try {
      await c.invalidateTags(['t'], { soft: true });
      expect(barrier).toHaveBeenCalledTimes(1);
      await c.invalidateTags(['t']);
      expect(barrier).toHaveBeenCalledTimes(2);
    } finally {
      barrier.mockRestore();
    }
  });
});
