import assert from 'node:assert/strict';
import { isLarderError } from '@larder/core';
import type { CacheStore, Payload } from '@larder/core/driver';
import { delay, heldLoader, uniqueKey, waitFor } from '../helpers';
import type { CacheUnderTest, SuiteContext } from '../options';
import type { GroupDefinition } from '../registry';

type Tagged = CacheUnderTest & Required<Pick<CacheUnderTest, 'tags' | 'invalidateTags'>>;

/** Where the counter of `tag` lives for a cache with `prefix` (core README "Tags"). */
const counterKey = (prefix: string, tag: string) => `${prefix}__larder:tag:${tag}`;

/** A cache with tags under `prefix` (a fresh one when omitted), or the test is skipped. */
async function tagged(ctx: SuiteContext, prefix = ctx.uniquePrefix()): Promise<Tagged> {
  const cache = await ctx.cacheAt(prefix);
  if (typeof cache.tags !== 'function' || typeof cache.invalidateTags !== 'function') {
    ctx.skip('the cache under test has no tags()/invalidateTags()');
  }
  try {
    await cache.tags(['probe']).set(uniqueKey('probe'), 1, '1m');
  } catch (error) {
    // Tagged entries need the metadata header: a raw-value store cannot hold them.
    if (isLarderError(error, 'E_UNSUPPORTED_OPERATION')) ctx.skip(`no tags: ${(error as Error).message}`);
    throw error;
  }
  return cache as Tagged;
}

/** The store's `setTagged` (a tagged write in one round trip), or the test is skipped. */
async function withSetTagged(ctx: SuiteContext) {
  const cache = await ctx.cache();
  const store = await cache.getStore();
  if (typeof store.setTagged !== 'function') ctx.skip(`${store.driver} has no setTagged (a tagged write in one call)`);
  const setTagged = (store.setTagged as NonNullable<CacheStore['setTagged']>).bind(store);
  return { store, prefix: ctx.uniquePrefix(), setTagged };
}

function text(payload: Payload | undefined): string | undefined {
  if (payload === undefined || typeof payload === 'string') return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

/** Core README "Tags": version counters per tag in the store, checked on every read, failing closed. */
export const tags: GroupDefinition = {
  title: 'tags: tagged writes, hard and soft invalidation, fail closed',
  define(t) {
    t.test(
      'a tagged entry reads through any view (get, getMany, has, pull, remember) until a tag is invalidated',
      async (ctx) => {
        const prefix = ctx.uniquePrefix();
        const c = await tagged(ctx, prefix);
        const other = await ctx.cacheAt(prefix); // another instance
        const [a, b, k] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('k')];
        const users = c.tags(['users', 'user:1']);
        await users.set(k, { name: 'ada' }, '1m');
        await users.setMany({ [a]: 1, [b]: 2 }, '1m');
        await c.tags(['posts']).set('untouched', 'p', '1m');
        assert.deepEqual(await other.get(k), { name: 'ada' });
        assert.deepEqual(await other.getMany([a, b, k]), [1, 2, { name: 'ada' }]);
        assert.equal(await other.has(a), true);
        await other.invalidateTags?.(['user:1', 'user:1']);
        assert.equal(await c.get(k), undefined);
        assert.deepEqual(await c.getMany([a, b, k]), [undefined, undefined, undefined]);
        assert.equal(await c.has(a), false);
        assert.equal(await c.pull(b), undefined);
        assert.equal(await c.remember(k, '1m', () => 'fresh', { tags: ['user:1'] }), 'fresh');
        assert.equal(await other.get(k), 'fresh');
        assert.equal(await other.get('untouched'), 'p');
      },
    );

    t.test('tag order and duplicates do not matter', async (ctx) => {
      const c = await tagged(ctx);
      const k = uniqueKey();
      await c.tags(['b', 'a', 'b']).set(k, 1, '1m');
      assert.equal(await c.tags(['a', 'b']).get(k), 1);
      await c.invalidateTags(['b']);
      assert.equal(await c.get(k), undefined);
    });

    t.test('soft: a get misses; remember with grace serves the old value as graced and refreshes it', async (ctx) => {
      const c = await tagged(ctx);
      const k = uniqueKey();
      await c.remember(k, '1m', () => 'v1', { tags: ['pages'] });
      await c.invalidateTags(['pages'], { soft: true });
      assert.equal(await c.get(k), undefined);
      assert.equal(await c.has(k), false);
      const served = await c.remember(k, '1m', () => 'v2', { tags: ['pages'], grace: '1m' });
      assert.equal(served, 'v1');
      await waitFor(async () => (await c.get(k)) === 'v2', { message: 'the soft-invalidated entry refreshed' });
      await c.invalidateTags(['pages'], { soft: true });
      // Without grace a soft-invalidated entry is a miss: the loader runs and its value is stored.
      assert.equal(await c.remember(k, '1m', () => 'v3', { tags: ['pages'] }), 'v3');
      assert.equal(await c.get(k), 'v3');
    });

    t.test('a missing tag counter (evicted, expired, flushed) reads as a miss, never as the old value', async (ctx) => {
      const prefix = ctx.uniquePrefix();
      const c = await tagged(ctx, prefix);
      const store = await c.getStore();
      const k = uniqueKey();
      await c.tags(['gone']).set(k, 'v', '1m');
      assert.equal(await c.get(k), 'v');
      assert.equal(await store.delete(counterKey(prefix, 'gone')), true);
      assert.equal(await c.get(k), undefined);
      assert.deepEqual(await c.getMany([k]), [undefined]);
      assert.equal(await c.has(k), false);
      // Invalidating a tag whose counter is missing does not make it again (nothing to invalidate).
      await c.invalidateTags(['gone']);
      assert.equal(await store.get(counterKey(prefix, 'gone')), undefined);
      await c.tags(['gone']).set(k, 'again', '1m');
      assert.equal(await c.get(k), 'again');
    });

    t.test('a loader overlapping an invalidation of its tag is never kept', async (ctx) => {
      const prefix = ctx.uniquePrefix();
      const c = await tagged(ctx, prefix);
      const other = await ctx.cacheAt(prefix);
      const k = uniqueKey();
      const load = heldLoader('old');
      const loading = c.remember(k, '1m', load.loader, { tags: ['t'] });
      await load.started;
      await other.invalidateTags?.(['t']);
      load.release();
      assert.equal(await loading, 'old');
      assert.equal(await other.get(k), undefined);
      assert.equal(await c.get(k), undefined);
    });

    t.test(
      "a tag counter outlives the entries that use it (a short entry's counter is extended by a longer one)",
      async (ctx) => {
        const c = await tagged(ctx);
        const precision = await ctx.precisionMs();
        const short = Math.max(precision * 2, 200);
        const [s, l] = [uniqueKey('short'), uniqueKey('long')];
        await c.tags(['life']).set(s, 1, short);
        await c.tags(['life']).set(l, 2, '1h');
        // Counters made for the short entry live a few times its TTL: wait well past that.
        await delay(short * 3 + precision * 2);
        assert.equal(await c.get(s), undefined);
        assert.equal(await c.get(l), 2);
        await c.invalidateTags(['life']);
        assert.equal(await c.get(l), undefined);
      },
    );

    t.test(
      "another instance's shorter tagged write never shortens the counter (stores with tagVersions)",
      async (ctx) => {
        const prefix = ctx.uniquePrefix();
        const a = await tagged(ctx, prefix);
        const b = await ctx.cacheAt(prefix);
        const store = await a.getStore();
        if (typeof store.tagVersions !== 'function') {
          ctx.skip('the store has no tagVersions: its fallback touch may shorten a counter (entries then fail closed)');
        }
        const precision = await ctx.precisionMs();
        const short = Math.max(precision * 2, 200);
        const l = uniqueKey('long');
        await a.tags(['shared']).set(l, 'kept', '1h');
        await b.tags?.(['shared']).set(uniqueKey('short'), 1, short);
        await delay(short * 3 + precision * 2);
        assert.equal(await b.get(l), 'kept');
      },
    );

    t.test('a tagged hit read again costs one store read call, like an untagged hit', async (ctx) => {
      const c = await tagged(ctx);
      const store = await c.getStore();
      const [k, plain] = [uniqueKey('tagged'), uniqueKey('plain')];
      await c.tags(['x', 'y', 'z']).set(k, { v: 1 }, '1m');
      await c.set(plain, { v: 2 }, '1m');
      await c.get(k);
      const reads = async (key: string) => {
        const methods = ['get', 'getMany', 'getWithTags'] as const;
        const originals = methods.map((name) => store[name]);
        let calls = 0;
        for (const name of methods) {
          const original = store[name] as ((...args: unknown[]) => unknown) | undefined;
          if (original === undefined) continue;
          Object.defineProperty(store, name, {
            configurable: true,
            writable: true,
            value: (...args: unknown[]) => {
              calls += 1;
              return original.apply(store, args);
            },
          });
        }
        try {
          await c.get(key);
        } finally {
          methods.forEach((name, i) => {
            delete (store as unknown as Record<string, unknown>)[name];
            if (Object.hasOwn(store, name) || store[name] !== originals[i]) {
              Object.defineProperty(store, name, { configurable: true, writable: true, value: originals[i] });
            }
          });
        }
        return calls;
      };
      const inProcess = (await ctx.capabilities()).inProcess;
      // In process the counters are read synchronously: a store call each, no round trip.
      if (inProcess) return;
      assert.equal(await reads(plain), 1);
      assert.equal(await reads(k), 1);
    });

    t.test(
      "setTagged: the entry carries its counters' versions, missing counters are made (stores with setTagged)",
      async (ctx) => {
        const { store, prefix, setTagged } = await withSetTagged(ctx);
        const key = `${prefix}${uniqueKey('st')}`;
        const counters = [counterKey(prefix, 'a'), counterKey(prefix, 'b')];
        await store.set(counters[0] as string, '3145728', 600_000);
        const head = '\u0001k,\u0001';
        const entry = {
          head,
          tail: '{"v":1}',
          tags: ['a', 'b'],
          counters,
          start: 2097152,
          extend: [true, true],
        };
        const reply = await setTagged(key, { ...entry, counterTtlMs: 120_000 }, 60_000);
        assert.deepEqual(reply.versions, [3145728, 2097152]);
        assert.equal(text(await store.get(key)), `${head}\u0002a\u00033145728\u0004b\u00032097152\u0002{"v":1}`);
        assert.equal(text(await store.get(counters[1] as string)), '2097152');
        // `a` had 600 s left (kept: never shortened), `b` was made with 120 s.
        assert.ok((reply.lifeMs[0] ?? 0) > 120_000, `a's life ${reply.lifeMs[0]}`);
        assert.ok((reply.lifeMs[1] ?? 0) > 60_000 && (reply.lifeMs[1] ?? 0) <= 120_000, `b's life ${reply.lifeMs[1]}`);
        // A counter not to be checked is only read.
        const again = await setTagged(key, { ...entry, extend: [false, false], counterTtlMs: 120_000 }, undefined);
        assert.deepEqual(again.versions, [3145728, 2097152]);
        assert.deepEqual(again.lifeMs, [undefined, undefined]);
      },
    );

    t.test(
      "setTagged calls made together: each entry carries its own counters' versions, a key written twice keeps the later call's (stores with setTagged)",
      async (ctx) => {
        const { store, prefix, setTagged } = await withSetTagged(ctx);
        const head = '\u0001k,\u0001';
        await store.set(counterKey(prefix, 'a'), '3145728', 600_000);
        // One tick: Redis joins them into one script call after the first (tag-write-batch.ts).
        const tagsOf = (i: number) => (i % 3 === 0 ? ['a'] : i % 3 === 1 ? ['b', 'a'] : ['c']);
        const keys = Array.from({ length: 20 }, (_, i) => `${prefix}${uniqueKey(`together${i}`)}`);
        const twice = `${prefix}${uniqueKey('twice')}`;
        const write = (key: string, i: number, tail: string) => {
          const tags = tagsOf(i);
          return setTagged(
            key,
            {
              head,
              tail,
              tags,
              counters: tags.map((tag) => counterKey(prefix, tag)),
              start: 2097152,
              extend: tags.map(() => true),
              // Write 5's entry never expires: its counter `c` then keeps no expiry either.
              counterTtlMs: i === 5 ? undefined : 120_000,
            },
            i === 5 ? undefined : 60_000,
          );
        };
        const replies = await Promise.all([
          ...keys.map((key, i) => write(key, i, `{"v":${i}}`)),
          write(twice, 0, '"first"'),
          write(twice, 0, '"second"'),
        ]);
        const version: Record<string, number> = { a: 3145728, b: 2097152, c: 2097152 };
        for (let i = 0; i < keys.length; i++) {
          const tags = tagsOf(i);
          assert.deepEqual(
            replies[i]?.versions,
            tags.map((tag) => version[tag]),
            `write ${i}`,
          );
          const section = tags.map((tag) => `${tag}\u0003${version[tag]}`).join('\u0004');
          assert.equal(text(await store.get(keys[i] as string)), `${head}\u0002${section}\u0002{"v":${i}}`);
        }
        assert.equal(text(await store.get(twice)), `${head}\u0002a\u00033145728\u0002"second"`);
        // `c` was made with 120 s by write 2, then kept with no expiry by write 5; the last write of `c` sees none left.
        assert.equal(replies[5]?.lifeMs[0], Number.POSITIVE_INFINITY);
        assert.equal(replies[17]?.lifeMs[0], Number.POSITIVE_INFINITY);
        // `a` had 600 s left: never shortened.
        assert.ok((replies[0]?.lifeMs[0] ?? 0) > 120_000, `a's life ${replies[0]?.lifeMs[0]}`);
      },
    );

    t.test(
      'a tagged set through setTagged is invalidated like any tagged entry; a value holding the marks of the section reads back intact',
      async (ctx) => {
        const { prefix } = await withSetTagged(ctx);
        const c = await tagged(ctx, prefix);
        const other = await ctx.cacheAt(prefix);
        const k = uniqueKey('st');
        const hostile = { text: 'a\u0002b\u0003c\u0004d', n: 1 };
        await c.tags(['x', 'y']).set(k, hostile, '1m');
        assert.deepEqual(await other.get(k), hostile);
        await other.invalidateTags?.(['y']);
        assert.equal(await c.get(k), undefined);
        await c.tags(['x', 'y']).set(k, hostile, '1m');
        assert.deepEqual(await other.get(k), hostile);
      },
    );

    t.test(
      "a scope's drop() hides its entries from every instance at once (tags and nested scopes too); others stay; bad names are E_INVALID_TAG",
      async (ctx) => {
        const prefix = ctx.uniquePrefix();
        const c = await tagged(ctx, prefix);
        const other = await ctx.cacheAt(prefix);
        if (typeof c.scope !== 'function' || typeof other.scope !== 'function') ctx.skip('the cache has no scope()');
        const scope = c.scope?.('group') as NonNullable<ReturnType<NonNullable<Tagged['scope']>>>;
        const [a, b, n, t, out, userTag] = ['a', 'b', 'n', 't', 'out', 'ut'].map((k) => uniqueKey(k));
        await scope.set(a as string, 1, '1m');
        await scope.setMany({ [b as string]: 2 }, '1m');
        await scope.scope?.('inner').set(n as string, 3, '1m');
        await scope.tags?.(['x']).set(t as string, 4, '1m');
        await c.set(out as string, 'stays', '1m');
        await c.tags(['group']).set(userTag as string, 'user tag', '1m');
        assert.deepEqual(await other.getMany([a, b, n, t] as string[]), [1, 2, 3, 4]);
        await other.scope?.('inner').drop();
        assert.equal(await c.get(n as string), undefined);
        assert.equal(await c.get(a as string), 1);
        await other.scope?.('group').drop();
        for (const reader of [c, other]) {
          assert.deepEqual(await reader.getMany([a, b, n, t] as string[]), [
            undefined,
            undefined,
            undefined,
            undefined,
          ]);
          assert.equal(await reader.has(a as string), false);
          assert.equal(await reader.get(out as string), 'stays');
          assert.equal(await reader.get(userTag as string), 'user tag');
        }
        await scope.set(a as string, 'after', '1m');
        assert.equal(await other.get(a as string), 'after');
        for (const bad of ['', 'a\u0001b', 'x'.repeat(10_240)]) {
          assert.throws(
            () => c.scope?.(bad),
            (e) => isLarderError(e, 'E_INVALID_TAG'),
          );
        }
        assert.throws(
          () => c.tags(['__larder:scope:group']),
          (e) => isLarderError(e, 'E_INVALID_TAG'),
        );
      },
    );

    t.test('bad tags are typed errors (E_INVALID_TAG) and nothing is stored', async (ctx) => {
      const c = await tagged(ctx);
      const k = uniqueKey();
      const many = Array.from({ length: 10_000 }, (_, i) => `t${i}`);
      const bad: unknown[] = [[''], ['a\u0001b'], ['x'.repeat(10_240)], ['ok', 42], many, 'users'];
      for (const list of bad) {
        assert.throws(
          () => c.tags(list as string[]),
          (e) => isLarderError(e, 'E_INVALID_TAG'),
        );
        await assert.rejects(
          c.remember(k, '1m', () => 1, { tags: list as string[] }),
          (e) => isLarderError(e, 'E_INVALID_TAG'),
        );
        await assert.rejects(c.invalidateTags(list as string[]), (e) => isLarderError(e, 'E_INVALID_TAG'));
      }
      assert.equal(await c.get(k), undefined);
    });
  },
};
