import assert from 'node:assert/strict';
import { isLarderError } from '@larder/core';
import type { CacheStore, SyncStoreMethods } from '@larder/core/driver';
import { expectLarderError, uniqueKey } from '../helpers';
import type { GroupDefinition } from '../registry';

/** A payload as latin1 text (one character per byte), `undefined` when absent. */
const latin1 = (payload: unknown): string | undefined =>
  payload === undefined
    ? undefined
    : typeof payload === 'string'
      ? Buffer.from(payload, 'utf8').toString('latin1')
      : Buffer.from(payload as Uint8Array).toString('latin1');

/** getMany, setMany, deleteMany. */
export const many: GroupDefinition = {
  title: 'batch operations: getMany, setMany, deleteMany',
  define(t) {
    t.test('getMany is aligned with the keys, including duplicates and missing keys', async (ctx) => {
      const cache = await ctx.cache();
      const [a, b, missing] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('missing')];
      await cache.set(a, 1);
      await cache.set(b, { two: 2 });
      assert.deepEqual(await cache.getMany([a, missing, a, b, missing]), [1, undefined, 1, { two: 2 }, undefined]);
      assert.deepEqual(await cache.getMany([]), []);
      assert.deepEqual(await cache.getMany([missing]), [undefined]);
    });

    t.test('getMany of 250 keys, every other one missing', async (ctx) => {
      const cache = await ctx.cache();
      const keys = Array.from({ length: 250 }, (_, i) => uniqueKey(`k${i}`));
      await cache.setMany(keys.filter((_, i) => i % 2 === 0).map((key) => [key, key] as const));
      const values = await cache.getMany(keys);
      assert.deepEqual(
        values,
        keys.map((key, i) => (i % 2 === 0 ? key : undefined)),
      );
    });

    t.test('setMany accepts a Record', async (ctx) => {
      const cache = await ctx.cache();
      const [a, b] = [uniqueKey('a'), uniqueKey('b')];
      assert.equal(await cache.setMany({ [a]: 'A', [b]: [1, 2] }), undefined);
      assert.deepEqual(await cache.getMany([a, b]), ['A', [1, 2]]);
    });

    t.test('setMany accepts an iterable of [key, value]: array, Map, generator', async (ctx) => {
      const cache = await ctx.cache();
      const [a, b, c, d] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('c'), uniqueKey('d')];
      await cache.setMany([[a, 1]]);
      await cache.setMany(
        new Map<string, unknown>([
          [b, 2],
          [c, null],
        ]),
      );
      await cache.setMany(
        (function* () {
          yield [d, { four: 4 }] as const;
        })(),
      );
      assert.deepEqual(await cache.getMany([a, b, c, d]), [1, 2, null, { four: 4 }]);
    });

    t.test('setMany of nothing is a no-op; a repeated key keeps the last value', async (ctx) => {
      const cache = await ctx.cache();
      await cache.setMany({});
      await cache.setMany([]);
      const key = uniqueKey();
      await cache.setMany([
        [key, 'first'],
        [key, 'last'],
      ]);
      assert.equal(await cache.get(key), 'last');
    });

    t.test('deleteMany returns how many existed (duplicates counted once)', async (ctx) => {
      const cache = await ctx.cache();
      const [a, b, c] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('c')];
      await cache.setMany({ [a]: 1, [b]: 2, [c]: 3 });
      assert.equal(await cache.deleteMany([a, b, a, uniqueKey('missing')]), 2);
      assert.deepEqual(await cache.getMany([a, b, c]), [undefined, undefined, 3]);
      assert.equal(await cache.deleteMany([]), 0);
      assert.equal(await cache.deleteMany([a]), 0);
    });
  },
};

/** add. */
export const add: GroupDefinition = {
  title: 'add (set if absent)',
  define(t) {
    t.test(
      'add stores a missing key and returns true',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        assert.equal(await cache.add(key, 'v'), true);
        assert.equal(await cache.get(key), 'v');
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'add on a present key returns false and keeps the value',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        await cache.set(key, 'original');
        assert.equal(await cache.add(key, 'other'), false);
        assert.equal(await cache.get(key), 'original');
        await cache.set(key, null);
        assert.equal(await cache.add(key, 'other'), false, 'a stored null is present');
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'add after delete stores again',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        assert.equal(await cache.add(key, 1, '1m'), true);
        await cache.delete(key);
        assert.equal(await cache.add(key, 2, '1m'), true);
        assert.equal(await cache.get(key), 2);
      },
      { needs: ['atomicAdd'] },
    );
  },
};

/** increment / decrement. */
export const counters: GroupDefinition = {
  title: 'counters: increment, decrement',
  define(t) {
    t.test(
      'increment creates a missing key at 0, then adds',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        assert.equal(await cache.increment(key), 1);
        assert.equal(await cache.increment(key), 2);
        assert.equal(await cache.increment(key, 5), 7);
        assert.equal(await cache.get(key), 7);
      },
      { needs: ['increment'] },
    );

    t.test(
      'decrement creates a missing key at 0 and goes negative',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        assert.equal(await cache.decrement(key), -1);
        assert.equal(await cache.decrement(key, 4), -5);
        assert.equal(await cache.increment(key, 10), 5);
        assert.equal(await cache.decrement(key, 10), -5);
        assert.equal(await cache.get(key), -5);
      },
      { needs: ['increment'] },
    );

    t.test(
      'increment by a negative amount and by 0',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        assert.equal(await cache.increment(key, -3), -3);
        assert.equal(await cache.increment(key, 0), -3);
        assert.equal(await cache.decrement(key, -10), 7);
      },
      { needs: ['increment'] },
    );

    t.test(
      'decrement by 0 of a missing key is 0, not -0 (found by the model group)',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        assert.ok(Object.is(await cache.decrement(key, 0), 0), 'decrement answers 0');
        assert.ok(Object.is(await cache.get(key), 0), 'the stored counter reads 0');
      },
      { needs: ['increment'] },
    );

    t.test(
      'increment continues a counter stored with set (integers are plain decimal)',
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        await cache.set(key, 41);
        assert.equal(await cache.increment(key), 42);
        await cache.set(key, -2);
        assert.equal(await cache.increment(key), -1);
      },
      { needs: ['increment'] },
    );

    t.test(
      'increment of a non-integer stored value (a string of digits too) rejects with a LarderError and keeps the value',
      async (ctx) => {
        const cache = await ctx.cache();
        for (const value of ['abc', '5', '-3', 1.5, { n: 1 }]) {
          const key = uniqueKey();
          await cache.set(key, value);
          const error = await expectLarderError(() => cache.increment(key), `increment of ${JSON.stringify(value)}`);
          assert.ok(isLarderError(error));
          assert.deepEqual(await cache.get(key), value, `value ${JSON.stringify(value)} intact`);
        }
      },
      { needs: ['increment'] },
    );
  },
};

/** Counters near the top of the safe integer range. */
export const largeCounters: GroupDefinition = {
  title: 'counters up to 2^53-1',
  define(t) {
    t.test(
      'increment reaches Number.MAX_SAFE_INTEGER exactly',
      async (ctx) => {
        const cache = await ctx.cache();
        const max = Number.MAX_SAFE_INTEGER;
        const a = uniqueKey();
        await cache.set(a, max - 2);
        assert.equal(await cache.increment(a), max - 1);
        assert.equal(await cache.increment(a), max);
        assert.equal(await cache.get(a), max);
        const b = uniqueKey();
        assert.equal(await cache.increment(b, max), max);
        assert.equal(await cache.decrement(b, max), 0);
        const c = uniqueKey();
        assert.equal(await cache.increment(c, 2 ** 32 + 5), 2 ** 32 + 5, 'above 2^32');
        assert.equal(await cache.increment(c, 2 ** 32), 2 ** 33 + 5);
        const d = uniqueKey();
        assert.equal(await cache.decrement(d, max), -max, 'down to -(2^53-1)');
      },
      { needs: ['increment'] },
    );
  },
};

/** touch. */
export const touch: GroupDefinition = {
  title: 'touch',
  define(t) {
    t.test('touch returns true for a present key and keeps its value', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.set(key, { v: 1 }, '1m');
      assert.equal(await cache.touch(key, '10m'), true);
      assert.deepEqual(await cache.get(key), { v: 1 });
    });

    t.test('touch returns false for a missing key and does not create it', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      assert.equal(await cache.touch(key, '10m'), false);
      assert.equal(await cache.has(key), false);
    });

    t.test('touch of a key deleted earlier returns false', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.set(key, 1);
      await cache.delete(key);
      assert.equal(await cache.touch(key, '10m'), false);
    });

    // `head` (optional): what an L1 reads to check a life extension instead of the whole value.
    t.test(
      'head, where the store has it: the stored payload up to at least its metadata header; a missing key is undefined',
      async (ctx) => {
        const prefix = ctx.uniquePrefix();
        const cache = await ctx.cacheAt(prefix);
        const store = await cache.getStore();
        if (store.head === undefined)
          ctx.skip('the store has no head (optional): an L1 reads the whole value to check an extended life');
        const head = (store.head as NonNullable<typeof store.head>).bind(store);
        const key = uniqueKey();
        await cache.set(key, { text: 'x'.repeat(1000) }, '10m');
        const whole = latin1(await store.get(`${prefix}${key}`));
        const first = latin1(await head(`${prefix}${key}`));
        assert.ok(whole !== undefined && first !== undefined, 'both read the stored entry');
        assert.ok(whole.startsWith(first), 'head is a prefix of the stored payload');
        // The metadata header closes within ENTRY_FORMAT.MAX_HEADER (32) characters.
        assert.ok(first.length >= 33, `head holds the metadata header (${first.length} bytes)`);
        assert.equal(await head(`${prefix}${uniqueKey()}`), undefined);
      },
    );

    // `getSync` and `getSyncShared` (optional, in-process stores): the facade's synchronous reads.
    t.test(
      'getSync and getSyncShared, where the store has them: what get answers; getSyncShared the value kept, the same at every read',
      async (ctx) => {
        const prefix = ctx.uniquePrefix();
        const cache = await ctx.cacheAt(prefix);
        const store = (await cache.getStore()) as CacheStore & SyncStoreMethods;
        if (store.getSync === undefined) {
          assert.equal(store.getSyncShared, undefined, 'getSyncShared comes only with getSync');
          ctx.skip('the store has no getSync (optional, in-process stores): every read is asynchronous');
        }
        const getSync = (store.getSync as NonNullable<typeof store.getSync>).bind(store);
        const key = uniqueKey();
        await cache.set(key, { nested: { n: 1 }, list: [1, 2] }, '10m');
        const full = `${prefix}${key}`;
        const read = await store.get(full);
        assert.deepEqual(getSync(full), read);
        assert.equal(getSync(`${prefix}${uniqueKey()}`), undefined);
        if (store.getSyncShared === undefined) return;
        const shared = store.getSyncShared(full);
        assert.deepEqual(shared, read);
        // The value kept: the same at each read, where getSync hands out copies or not.
        assert.equal(store.getSyncShared(full), shared);
        assert.equal(store.getSyncShared(`${prefix}${uniqueKey()}`), undefined);
      },
    );
  },
};
