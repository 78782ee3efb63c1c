import assert from 'node:assert/strict';
import { isLarderError } from '@larder/core';
import { collect, describeError, uniqueKey } from '../helpers';
import { CAPABILITY_METHODS, type StatsUnderTest } from '../options';
import type { GroupDefinition } from '../registry';

type Counted = Exclude<keyof StatsUnderTest, 'errors'>;
const EVENTS: Record<Counted, 'hit' | 'miss' | 'write' | 'delete'> = {
  hits: 'hit',
  misses: 'miss',
  writes: 'write',
  deletes: 'delete',
};

/** stats() and hit/miss/write/delete events. */
export const stats: GroupDefinition = {
  title: 'stats and events',
  define(t) {
    t.test(
      'get miss, set, get hit and delete are counted in stats() and emitted as events; off() stops them',
      async (ctx) => {
        const cache = await ctx.cache();
        const seen: Record<Counted, number> = { hits: 0, misses: 0, writes: 0, deletes: 0 };
        const listeners = Object.entries(EVENTS).map(([field, event]) => {
          const listener = () => {
            seen[field as Counted] += 1;
          };
          cache.on(event, listener);
          return [event, listener] as const;
        });
        const before = cache.stats();
        const delta = () => {
          const now = cache.stats();
          return {
            hits: now.hits - before.hits,
            misses: now.misses - before.misses,
            writes: now.writes - before.writes,
            deletes: now.deletes - before.deletes,
          };
        };
        const key = uniqueKey();
        await cache.get(key);
        assert.deepEqual(delta(), { hits: 0, misses: 1, writes: 0, deletes: 0 }, 'after a miss');
        await cache.set(key, 1);
        assert.deepEqual(delta(), { hits: 0, misses: 1, writes: 1, deletes: 0 }, 'after a set');
        await cache.get(key);
        assert.deepEqual(delta(), { hits: 1, misses: 1, writes: 1, deletes: 0 }, 'after a hit');
        await cache.delete(key);
        assert.deepEqual(delta(), { hits: 1, misses: 1, writes: 1, deletes: 1 }, 'after a delete');
        assert.deepEqual(seen, { hits: 1, misses: 1, writes: 1, deletes: 1 }, 'events');
        for (const [event, listener] of listeners) cache.off(event, listener);
        await cache.get(key);
        await cache.set(key, 2);
        assert.deepEqual(seen, { hits: 1, misses: 1, writes: 1, deletes: 1 }, 'events after off()');
        assert.equal(cache.stats().errors, before.errors, 'no errors counted');
      },
    );

    t.test(
      'stats().deletes counts only keys that existed (delete, deleteMany, pull of missing keys count nothing)',
      async (ctx) => {
        const cache = await ctx.cache();
        const [a, b, missing] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('missing')];
        await cache.setMany({ [a]: 1, [b]: 2 });
        const before = cache.stats().deletes;
        assert.equal(await cache.delete(missing), false);
        assert.equal(await cache.pull(missing), undefined);
        assert.equal(cache.stats().deletes - before, 0, 'deletes of a missing key');
        assert.equal(await cache.delete(a), true);
        assert.equal(cache.stats().deletes - before, 1, 'delete of a present key');
        assert.equal(await cache.deleteMany([b, missing, b]), 1);
        assert.equal(cache.stats().deletes - before, 2, 'deleteMany counts what existed');
      },
    );
  },
};

/** The capabilities object itself, and the skips checked against it. */
export const capabilities: GroupDefinition = {
  title: 'capabilities',
  define(t) {
    t.test('the store declares a driver name and well-formed capabilities', async (ctx) => {
      const caps = await ctx.capabilities();
      assert.ok((await ctx.driver()).length > 0, 'driver name');
      for (const name of ['atomicAdd', 'inProcess'] as const) {
        assert.equal(typeof caps[name], 'boolean', `capabilities.${name}`);
      }
      for (const name of ['ttlPrecisionMs', 'maxKeyBytes', 'maxValueBytes'] as const) {
        assert.ok(typeof caps[name] === 'number' && caps[name] > 0, `capabilities.${name} must be a positive number`);
      }
      assert.ok(Number.isFinite(caps.ttlPrecisionMs), 'ttlPrecisionMs is finite');
    });

    // A capability is a method the store has (atomicAdd: an add it declares atomic).
    t.test('every skipped capability is one the store declares false', async (ctx) => {
      const store = await (await ctx.cache()).getStore();
      for (const name of Object.keys(ctx.skips)) {
        if (name === 'atomicAdd') {
          assert.ok(
            !store.capabilities.atomicAdd || typeof store.add !== 'function',
            'skip.atomicAdd is set, but the store declares atomicAdd: true and has add(): run those tests (or fix the capability)',
          );
        } else if (name in CAPABILITY_METHODS) {
          const method = CAPABILITY_METHODS[name as keyof typeof CAPABILITY_METHODS];
          assert.notEqual(
            typeof store[method],
            'function',
            `skip.${name} is set, but the store declares ${name}: true (it has ${method}()): run those tests (or remove the method)`,
          );
        }
      }
    });

    if (t.skips.clear) {
      t.test(
        'clear without the capability rejects with UnsupportedOperationError naming the driver (or clears exactly its prefix)',
        async (ctx) => {
          const cache = await ctx.cache();
          const other = await ctx.cache();
          await cache.set('k', 1);
          await other.set('k', 2);
          try {
            await cache.clear();
          } catch (error) {
            assert.ok(isLarderError(error, 'E_UNSUPPORTED_OPERATION'), `clear rejected with ${describeError(error)}`);
            assert.equal(error.code, 'E_UNSUPPORTED_OPERATION');
            assert.equal(error.driver, await ctx.driver(), 'the error names the driver');
            assert.equal(await cache.get('k'), 1, 'the rejected clear removed data');
            return;
          }
          assert.equal(await cache.get('k'), undefined, 'clear resolved but left the key');
          assert.equal(await other.get('k'), 2, 'clear removed another prefix’s key');
        },
      );
    }

    if (t.skips.enumerate) {
      t.test(
        'keys() without the enumerate capability rejects with UnsupportedOperationError naming the driver',
        async (ctx) => {
          const cache = await ctx.cache();
          await cache.set('k', 1);
          let listed: string[];
          try {
            listed = await collect(cache.keys());
          } catch (error) {
            assert.ok(isLarderError(error, 'E_UNSUPPORTED_OPERATION'), `keys() rejected with ${describeError(error)}`);
            assert.equal(error.code, 'E_UNSUPPORTED_OPERATION');
            assert.equal(error.driver, await ctx.driver(), 'the error names the driver');
            return;
          }
          assert.deepEqual(listed, ['k'], 'keys() without the capability resolved with a wrong listing');
        },
      );
    }
  },
};
