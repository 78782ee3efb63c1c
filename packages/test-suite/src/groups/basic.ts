import assert from 'node:assert/strict';
import { uniqueKey, utf8Bytes } from '../helpers';
import type { GroupDefinition } from '../registry';

/** get/set/has/delete/pull/forever, overwrite, and keys of every shape the backend must accept. */
export const basic: GroupDefinition = {
  title: 'basic operations: get, set, has, delete, pull, forever',
  define(t) {
    t.test('get of a missing key is undefined; has is false', async (ctx) => {
      const cache = await ctx.cache();
      assert.equal(await cache.get(uniqueKey()), undefined);
      assert.equal(await cache.has(uniqueKey()), false);
    });

    t.test('set then get returns the value; has is true', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      assert.equal(await cache.set(key, { a: 1 }), undefined);
      assert.deepEqual(await cache.get(key), { a: 1 });
      assert.equal(await cache.has(key), true);
    });

    t.test('set overwrites the previous value', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.set(key, 'first');
      await cache.set(key, 'second');
      assert.equal(await cache.get(key), 'second');
    });

    t.test('delete returns true for a present key, false for a missing one', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.set(key, 1);
      assert.equal(await cache.delete(key), true);
      assert.equal(await cache.get(key), undefined);
      assert.equal(await cache.has(key), false);
      assert.equal(await cache.delete(key), false);
      assert.equal(await cache.delete(uniqueKey()), false);
    });

    t.test('pull returns the value and removes it; undefined when missing', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.set(key, { n: 42 });
      assert.deepEqual(await cache.pull(key), { n: 42 });
      assert.equal(await cache.has(key), false);
      assert.equal(await cache.pull(key), undefined);
    });

    t.test('forever stores without expiry', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.forever(key, 'kept');
      assert.equal(await cache.get(key), 'kept');
    });

    t.test('falsy values are present: null, false, 0, empty string', async (ctx) => {
      const cache = await ctx.cache();
      for (const value of [null, false, 0, '']) {
        const key = uniqueKey();
        await cache.set(key, value);
        assert.equal(await cache.has(key), true, `has() for ${JSON.stringify(value)}`);
        assert.equal(await cache.get(key), value, `get() for ${JSON.stringify(value)}`);
      }
    });

    t.test(
      'keys with spaces, control bytes, unicode, separators and near-limit length round-trip distinctly',
      async (ctx) => {
        const cache = await ctx.cache();
        const caps = await ctx.capabilities();
        const prefix = ctx.uniquePrefix();
        const room = caps.maxKeyBytes - utf8Bytes(prefix) - 64;
        const long = (fill: string) => `${uniqueKey('long')}-${fill.repeat(Math.max(0, Math.min(1000, room)))}`;
        const base = uniqueKey();
        const keys = [
          `${base} with spaces`,
          `${base}\twith\ttabs`,
          `${base}\nnewline\r\n`,
          `${base}\u0000nul\u0001\u007f`,
          `${base}:colons:and/slashes/?#&=%`,
          `${base}-ünïcødé-日本語-🙂-𝌆`,
          `${base}-UPPER`,
          `${base}-upper`,
          long('a'),
          long('b'),
        ];
        const scoped = await ctx.cacheAt(prefix);
        await Promise.all(keys.map((key, i) => scoped.set(key, i)));
        for (const [i, key] of keys.entries())
          assert.equal(await scoped.get(key), i, `key #${i} ${JSON.stringify(key.slice(0, 40))}`);
        assert.equal(await cache.get(keys[0]!), undefined, 'another prefix sees the key');
      },
    );
  },
};
