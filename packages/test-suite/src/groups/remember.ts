import assert from 'node:assert/strict';
import { collect, delay, uniqueKey } from '../helpers';
import type { GroupDefinition } from '../registry';

/** remember / rememberForever. */
export const remember: GroupDefinition = {
  title: 'remember, rememberForever',
  define(t) {
    t.test('remember runs the loader on a miss, stores the value, and serves it on a hit', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      let calls = 0;
      const loader = async () => {
        calls += 1;
        return { built: calls };
      };
      assert.deepEqual(await cache.remember(key, '1m', loader), { built: 1 });
      assert.deepEqual(await cache.get(key), { built: 1 });
      assert.deepEqual(await cache.remember(key, '1m', loader), { built: 1 });
      assert.equal(calls, 1);
    });

    t.test('remember serves a value stored by set without calling the loader', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.set(key, 'stored');
      assert.equal(await cache.remember(key, '1m', () => assert.fail('loader called on a hit')), 'stored');
    });

    t.test('remember accepts a synchronous loader and falsy values', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      assert.equal(await cache.remember(key, '1m', () => 0), 0);
      assert.equal(await cache.remember(key, '1m', () => 99), 0, 'a stored 0 is a hit');
    });

    t.test('100 concurrent remember calls on a cold key run the loader once', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      let calls = 0;
      const results = await Promise.all(
        Array.from({ length: 100 }, () =>
          cache.remember(key, '1m', async () => {
            calls += 1;
            await delay(30);
            return { v: 'once' };
          }),
        ),
      );
      assert.equal(calls, 1, 'loader calls');
      for (const result of results) assert.deepEqual(result, { v: 'once' });
    });

    t.test('a loader error rejects every waiting caller, stores nothing, and the next call retries', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      const boom = new Error('loader failed');
      const failing = async () => {
        await delay(5);
        throw boom;
      };
      const outcomes = await Promise.allSettled([
        cache.remember(key, '1m', failing),
        cache.remember(key, '1m', failing),
      ]);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        assert.equal((outcome as PromiseRejectedResult).reason, boom, 'the loader error itself');
      }
      assert.equal(await cache.has(key), false);
      assert.equal(await cache.remember(key, '1m', () => 'ok'), 'ok');
    });

    t.test(
      'remember with lock: true runs the loader once across two caches (two processes) on one backend',
      async (ctx) => {
        const prefix = ctx.uniquePrefix();
        // Two Cache instances have separate in-process single-flights, like two app processes.
        const first = await ctx.cacheAt(prefix);
        const second = await ctx.cacheAt(prefix);
        if (first === second) ctx.skip('createCache returned the same Cache twice; cannot simulate two processes');
        const key = uniqueKey();
        let calls = 0;
        const loader = async () => {
          calls += 1;
          await delay(50);
          return 'locked';
        };
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? first : second).remember(key, '1m', loader, { lock: { ttl: '10s', wait: '10s' } }),
          ),
        );
        assert.deepEqual(new Set(results), new Set(['locked']));
        assert.equal(calls, 1, 'loader calls across both caches');
      },
      { needs: ['atomicAdd'] },
    );

    t.test('rememberForever stores without expiry and serves hits', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      let calls = 0;
      const loader = () => {
        calls += 1;
        return 'forever';
      };
      assert.equal(await cache.rememberForever(key, loader), 'forever');
      assert.equal(await cache.rememberForever(key, loader), 'forever');
      assert.equal(calls, 1);
      assert.equal(await cache.get(key), 'forever');
    });

    t.test('rememberWithStatus on a hit reports ageMs: a number from 0 to the time since the write', async (ctx) => {
      const cache = await ctx.cache();
      const withStatus = cache.rememberWithStatus?.bind(cache);
      if (withStatus === undefined) return ctx.skip('the cache has no rememberWithStatus');
      const key = uniqueKey();
      const before = Date.now();
      const miss = await withStatus(key, '1m', () => ({ v: 1 }));
      assert.equal(miss.status, 'miss');
      assert.equal(miss.ageMs, 0, 'a miss is 0 ms old');
      const waitMs = 60;
      await delay(waitMs);
      const hit = await withStatus(key, '1m', () => assert.fail('loader called on a hit'));
      const elapsed = Date.now() - before;
      assert.equal(hit.status, 'hit');
      assert.deepEqual(hit.value, { v: 1 });
      assert.equal(typeof hit.ageMs, 'number', `ageMs of a hit is a number, got ${String(hit.ageMs)}`);
      const age = hit.ageMs as number;
      // From the write, on this process's clock: at least the wait (a timer may fire a ms early), at most since before the write.
      assert.ok(age >= waitMs - 5, `ageMs ${age} below the ${waitMs} ms waited since the write`);
      // + 1: the elapsed time is counted in whole ms (Date.now()), a store may report the age on a finer clock.
      assert.ok(age <= elapsed + 1, `ageMs ${age} above the ${elapsed} ms since before the write`);
    });
  },
};

/** namespace. */
export const namespace: GroupDefinition = {
  title: 'namespaces',
  define(t) {
    t.test('a namespace does not see its parent keys, nor the parent its keys', async (ctx) => {
      const cache = await ctx.cache();
      const users = cache.namespace('users');
      const key = uniqueKey();
      await cache.set(key, 'parent');
      assert.equal(await users.get(key), undefined);
      await users.set(key, 'child');
      assert.equal(await cache.get(key), 'parent');
      assert.equal(await users.get(key), 'child');
    });

    t.test('sibling and nested namespaces are isolated', async (ctx) => {
      const cache = await ctx.cache();
      const a = cache.namespace('a');
      const b = cache.namespace('b');
      const nested = a.namespace('b');
      const key = uniqueKey();
      await Promise.all([a.set(key, 'a'), b.set(key, 'b'), nested.set(key, 'a.b')]);
      assert.deepEqual(await Promise.all([a.get(key), b.get(key), nested.get(key)]), ['a', 'b', 'a.b']);
      assert.equal(await b.delete(key), true);
      assert.deepEqual(await Promise.all([a.get(key), b.get(key), nested.get(key)]), ['a', undefined, 'a.b']);
      assert.equal(await a.increment(`${key}-n`), 1);
      assert.equal(await b.increment(`${key}-n`), 1);
    });

    t.test('the same namespace name reaches the same data', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.namespace('shared').set(key, 'x');
      assert.equal(await cache.namespace('shared').get(key), 'x');
    });
  },
};

/** keys() enumeration. */
export const keys: GroupDefinition = {
  title: 'keys() enumeration',
  define(t) {
    t.test(
      'keys() lists exactly this cache’s live keys, without the prefix',
      async (ctx) => {
        const cache = await ctx.cache();
        const other = await ctx.cache();
        assert.deepEqual(await collect(cache.keys()), [], 'fresh prefix is empty');
        const names = ['a', 'b b', 'ü-🙂', uniqueKey()];
        await cache.setMany(names.map((name) => [name, name] as const));
        await other.set('a', 'other');
        await cache.set('gone', 1);
        await cache.delete('gone');
        assert.deepEqual((await collect(cache.keys())).sort(), [...names].sort());
      },
      { needs: ['enumerate'] },
    );

    t.test(
      'keys() of a namespace lists only the namespace’s keys',
      async (ctx) => {
        const cache = await ctx.cache();
        const ns = cache.namespace('ns');
        await cache.set('outside', 1);
        await ns.setMany({ x: 1, y: 2 });
        assert.deepEqual((await collect(ns.keys())).sort(), ['x', 'y']);
      },
      { needs: ['enumerate'] },
    );

    t.test(
      'keys() walks more than a thousand keys',
      async (ctx) => {
        const cache = await ctx.cache();
        const names = Array.from({ length: 1200 }, (_, i) => `k${i}`);
        await cache.setMany(names.map((name) => [name, 1] as const));
        const listed = await collect(cache.keys());
        assert.equal(listed.length, names.length, 'count');
        assert.deepEqual(new Set(listed), new Set(names));
      },
      { needs: ['enumerate'] },
    );
  },
};
