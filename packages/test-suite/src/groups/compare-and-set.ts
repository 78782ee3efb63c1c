import assert from 'node:assert/strict';
import type { CacheStore, Payload } from '@larder/core/driver';
import { uniqueKey, waitFor } from '../helpers';
import type { SuiteContext } from '../options';
import type { GroupDefinition } from '../registry';

const CALLERS = 50;

/** The driver under test and a fresh full key under its own prefix; skips when the driver has no `compareAndSet`. */
async function setUp(ctx: SuiteContext): Promise<{ store: CacheStore; key: string; cas: CasFn }> {
  const cache = await ctx.cache();
  const store = await cache.getStore();
  if (!store.compareAndSet) ctx.skip(`${store.driver} has no compareAndSet`);
  const cas: CasFn = (key, expected, payload, ttlMs) =>
    (store.compareAndSet as NonNullable<CacheStore['compareAndSet']>).call(store, key, expected, payload, ttlMs);
  return { store, key: `${ctx.uniquePrefix()}${uniqueKey('cas')}`, cas };
}

type CasFn = (
  key: string,
  expected: Payload | undefined,
  payload: Payload,
  ttlMs: number | undefined,
) => Promise<boolean>;

function text(payload: Payload | undefined): string | undefined {
  if (payload === undefined || typeof payload === 'string') return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

/** The store's `compareAndSet`: write only if the stored payload is the expected one (sessions' merge relies on it). */
export const compareAndSet: GroupDefinition = {
  title: 'compareAndSet: atomic write-if-unchanged on the store',
  define(t) {
    t.test('absent -> set: expected undefined writes a missing key, and only a missing key', async (ctx) => {
      const { store, key, cas } = await setUp(ctx);
      assert.equal(await cas(key, undefined, 'first', 60_000), true);
      assert.equal(text(await store.get(key)), 'first');
      assert.equal(await cas(key, undefined, 'second', 60_000), false, 'a present key is not absent');
      assert.equal(text(await store.get(key)), 'first');
    });

    t.test('match -> set: the stored payload equal to expected is replaced', async (ctx) => {
      const { store, key, cas } = await setUp(ctx);
      await store.set(key, 'v1 {"a":1}', 60_000);
      assert.equal(await cas(key, 'v1 {"a":1}', 'v2 {"a":2}', 60_000), true);
      assert.equal(text(await store.get(key)), 'v2 {"a":2}');
      // Bytes compare by content too (a string counts as its UTF-8 bytes).
      assert.equal(await cas(key, Buffer.from('v2 {"a":2}'), 'v3 é', 60_000), true);
      assert.equal(text(await store.get(key)), 'v3 é');
    });

    t.test('mismatch -> false, and the stored payload is unchanged', async (ctx) => {
      const { store, key, cas } = await setUp(ctx);
      await store.set(key, 'current', 60_000);
      assert.equal(await cas(key, 'stale', 'mine', 60_000), false);
      assert.equal(await cas(key, 'curren', 'mine', 60_000), false, 'a prefix is not equal');
      assert.equal(await cas(key, 'current!', 'mine', 60_000), false, 'a longer value is not equal');
      assert.equal(text(await store.get(key)), 'current');
      const other = `${key}:absent`;
      assert.equal(await cas(other, 'anything', 'mine', 60_000), false, 'an absent key does not match a payload');
      assert.equal(await store.get(other), undefined);
    });

    t.test('the written payload gets the new TTL; an expired key counts as absent', async (ctx) => {
      const { store, key, cas } = await setUp(ctx);
      const precision = await ctx.precisionMs();
      const short = Math.max(50, precision);
      await store.set(key, 'old', 60_000);
      assert.equal(await cas(key, 'old', 'short-lived', short), true);
      await waitFor(async () => (await store.get(key)) === undefined, {
        timeout: short + 3 * precision + 2000,
        message: 'the CAS-written key to expire',
      });
      assert.equal(await cas(key, 'short-lived', 'revived', 60_000), false, 'an expired value does not match');
      assert.equal(await cas(key, undefined, 'fresh', 60_000), true, 'an expired key is absent');
      assert.equal(text(await store.get(key)), 'fresh');
    });

    t.test(`${CALLERS} concurrent callers with the same expected value: exactly one wins`, async (ctx) => {
      const { store, key } = await setUp(ctx);
      // Separate caches (separate connections where the driver opens one per store) over one key.
      const stores = await Promise.all(Array.from({ length: 4 }, async () => (await ctx.cache()).getStore()));
      await store.set(key, 'start', 60_000);
      const results = await Promise.all(
        Array.from({ length: CALLERS }, (_, i) => {
          const s = stores[i % stores.length]!;
          return (s.compareAndSet as NonNullable<CacheStore['compareAndSet']>).call(
            s,
            key,
            'start',
            `caller-${i}`,
            60_000,
          );
        }),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners.length}`);
      assert.equal(text(await store.get(key)), `caller-${winners[0]}`);
    });

    t.test(`${CALLERS} concurrent creators of an absent key: exactly one wins`, async (ctx) => {
      const { store, key, cas } = await setUp(ctx);
      const results = await Promise.all(
        Array.from({ length: CALLERS }, (_, i) => cas(key, undefined, `c${i}`, 60_000)),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners.length}`);
      assert.equal(text(await store.get(key)), `c${winners[0]}`);
    });
  },
};
