import assert from 'node:assert/strict';
import { collect, uniqueKey } from '../helpers';
import type { CacheUnderTest } from '../options';
import type { GroupDefinition } from '../registry';

async function assertValues(cache: CacheUnderTest, expected: Record<string, unknown>, label: string): Promise<void> {
  const keys = Object.keys(expected);
  assert.deepEqual(await cache.getMany(keys), Object.values(expected), label);
}

/** clear(): only this cache's prefix, never anything else on the backend. */
export const clear: GroupDefinition = {
  title: 'clear (only its own prefix)',
  define(t) {
    t.test(
      'two caches with sibling prefixes on one backend: clear removes one, the other is intact',
      async (ctx) => {
        const base = ctx.uniquePrefix();
        const a = await ctx.cacheAt(`${base}a:`);
        const b = await ctx.cacheAt(`${base}b:`);
        await a.setMany({ same: 'a', onlyA: 1 });
        await b.setMany({ same: 'b', onlyB: 2 });
        await b.increment('counter');
        assert.equal(await a.clear(), undefined);
        await assertValues(a, { same: undefined, onlyA: undefined }, 'cleared cache');
        await assertValues(b, { same: 'b', onlyB: 2, counter: 1 }, 'other prefix');
        await a.set('after', 'ok');
        assert.equal(await a.get('after'), 'ok', 'writes work after clear');
      },
      { needs: ['clear'] },
    );

    t.test(
      "a prefix without the trailing ':' ('app') gets one: its clear() leaves 'apple' intact",
      async (ctx) => {
        const base = ctx.uniquePrefix();
        const app = await ctx.cacheAt(`${base}app`);
        const apple = await ctx.cacheAt(`${base}apple`);
        await app.set('k', 'app');
        await apple.set('k', 'apple');
        await app.clear();
        await assertValues(app, { k: undefined }, 'cleared cache');
        await assertValues(apple, { k: 'apple' }, "'apple' after clearing 'app'");
      },
      { needs: ['clear'] },
    );

    t.test(
      "nested prefixes ('app:' and 'app:2:'): clearing the child leaves the parent, look-alikes and outsiders intact",
      async (ctx) => {
        const base = ctx.uniquePrefix();
        const parent = await ctx.cacheAt(`${base}app:`);
        const child = await ctx.cacheAt(`${base}app:2:`);
        const lookalike = await ctx.cacheAt(`${base}app:20:`);
        const outsider = await ctx.cacheAt(`${base}apple:`);
        // Full keys: <base>app:2, <base>app:2x, <base>app:k — all outside the child's 'app:2:' prefix.
        await parent.setMany({ '2': 'p2', '2x': 'p2x', k: 'pk' });
        await child.setMany({ k: 'ck', x: 'cx' });
        await lookalike.set('k', 'lk');
        await outsider.set('k', 'ok');
        await child.clear();
        await assertValues(child, { k: undefined, x: undefined }, 'child cleared');
        await assertValues(parent, { '2': 'p2', '2x': 'p2x', k: 'pk' }, 'parent intact');
        await assertValues(lookalike, { k: 'lk' }, "'app:20:' intact");
        await assertValues(outsider, { k: 'ok' }, "'apple:' intact");
      },
      { needs: ['clear'] },
    );

    t.test(
      "nested prefixes: clearing the parent 'app:' also clears 'app:2:' (it lies inside), never 'apple:'",
      async (ctx) => {
        const base = ctx.uniquePrefix();
        const parent = await ctx.cacheAt(`${base}app:`);
        const child = await ctx.cacheAt(`${base}app:2:`);
        const outsider = await ctx.cacheAt(`${base}apple:`);
        const sibling = await ctx.cacheAt(`${base}ap:`);
        await parent.set('k', 'pk');
        await child.set('k', 'ck');
        await outsider.set('k', 'ok');
        await sibling.set('p:k', 'sk');
        await parent.clear();
        await assertValues(parent, { k: undefined }, 'parent cleared');
        await assertValues(child, { k: undefined }, 'child (inside the parent prefix) cleared');
        await assertValues(outsider, { k: 'ok' }, "'apple:' intact");
        await assertValues(sibling, { 'p:k': 'sk' }, "'ap:' intact");
      },
      { needs: ['clear'] },
    );

    t.test(
      'namespace clear removes only the namespace; the parent clear removes its namespaces too',
      async (ctx) => {
        const cache = await ctx.cache();
        const users = cache.namespace('users');
        const posts = cache.namespace('posts');
        await cache.set('top', 1);
        await users.set('u1', 'user');
        await posts.set('p1', 'post');
        await users.clear();
        assert.equal(await users.get('u1'), undefined, 'namespace cleared');
        assert.equal(await posts.get('p1'), 'post', 'sibling namespace intact');
        assert.equal(await cache.get('top'), 1, 'parent intact');
        await users.set('u2', 'user');
        await cache.clear();
        assert.deepEqual(await Promise.all([cache.get('top'), users.get('u2'), posts.get('p1')]), [
          undefined,
          undefined,
          undefined,
        ]);
      },
      { needs: ['clear'] },
    );

    t.test(
      'clear removes more than a thousand keys and is a no-op on an empty prefix',
      async (ctx) => {
        const cache = await ctx.cache();
        const other = await ctx.cache();
        await cache.clear();
        const names = Array.from({ length: 1200 }, (_, i) => `k${i}-${uniqueKey()}`);
        await cache.setMany(names.map((name) => [name, 1] as const));
        await other.set('keep', 1);
        await cache.clear();
        const left = (await cache.getMany(names)).filter((value) => value !== undefined).length;
        assert.equal(left, 0, `${left} keys left after clear`);
        assert.equal(await other.get('keep'), 1);
      },
      { needs: ['clear'] },
    );

    t.test(
      'after clear, keys() lists nothing',
      async (ctx) => {
        const cache = await ctx.cache();
        await cache.setMany({ a: 1, b: 2 });
        await cache.clear();
        assert.deepEqual(await collect(cache.keys()), []);
      },
      { needs: ['clear', 'enumerate'] },
    );
  },
};
