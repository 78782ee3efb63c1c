import assert from 'node:assert/strict';
import { InvalidKeyError, LockTimeoutError } from '@larder/core';
import { collect, delay, expectError, uniqueKey, waitFor } from '../helpers';
import type { CacheUnderTest, SuiteContext } from '../options';
import type { GroupDefinition } from '../registry';

const CALLERS = 200;

/** Several caches over the same prefix: separate connections when the driver opens one per store. */
async function callers(ctx: SuiteContext): Promise<CacheUnderTest[]> {
  const prefix = ctx.uniquePrefix();
  return Promise.all(Array.from({ length: 4 }, () => ctx.cacheAt(prefix)));
}

/** add and increment under 200 concurrent callers. */
export const atomicity: GroupDefinition = {
  title: `atomicity under ${CALLERS} concurrent callers`,
  define(t) {
    t.test(
      `add: exactly one of ${CALLERS} concurrent callers wins, and its value is stored`,
      async (ctx) => {
        const caches = await callers(ctx);
        const key = uniqueKey();
        const results = await Promise.all(
          Array.from({ length: CALLERS }, (_, i) => caches[i % caches.length]!.add(key, `caller-${i}`, '1m')),
        );
        const winners = results.flatMap((won, i) => (won ? [i] : []));
        assert.equal(winners.length, 1, `add winners: ${winners.length}`);
        assert.equal(await caches[0]!.get(key), `caller-${winners[0]}`);
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      `increment: ${CALLERS} concurrent increments give ${CALLERS} distinct results and a final ${CALLERS}`,
      async (ctx) => {
        const caches = await callers(ctx);
        const key = uniqueKey();
        const results = await Promise.all(
          Array.from({ length: CALLERS }, (_, i) => caches[i % caches.length]!.increment(key)),
        );
        assert.deepEqual(
          [...results].sort((a, b) => a - b),
          Array.from({ length: CALLERS }, (_, i) => i + 1),
          'every result 1..200 exactly once',
        );
        assert.equal(await caches[0]!.get(key), CALLERS);
      },
      { needs: ['increment'] },
    );

    t.test(
      `increment and decrement mixed: ${CALLERS} concurrent callers net to zero`,
      async (ctx) => {
        const caches = await callers(ctx);
        const key = uniqueKey();
        await Promise.all(
          Array.from({ length: CALLERS }, (_, i) =>
            i % 2 === 0 ? caches[i % caches.length]!.increment(key, 3) : caches[i % caches.length]!.decrement(key, 3),
          ),
        );
        assert.equal(await caches[0]!.get(key), 0);
      },
      { needs: ['increment'] },
    );
  },
};

/** Locks. */
export const locks: GroupDefinition = {
  title: 'locks',
  define(t) {
    t.test(
      'acquire: one of many concurrent owners gets the lock; owners are distinct',
      async (ctx) => {
        const cache = await ctx.cache();
        const name = uniqueKey('lock');
        const all = Array.from({ length: 20 }, () => cache.lock(name, '1m'));
        assert.equal(new Set(all.map((lock) => lock.owner)).size, all.length, 'distinct owner tokens');
        const results = await Promise.all(all.map((lock) => lock.acquire()));
        assert.equal(results.filter(Boolean).length, 1, 'holders');
        assert.equal(await all[results.indexOf(true)]!.release(), true);
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'withLock gives mutual exclusion to concurrent workers, each waiting its turn',
      async (ctx) => {
        const cache = await ctx.cache();
        const name = uniqueKey('lock');
        let inside = 0;
        let most = 0;
        let runs = 0;
        await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            cache.withLock(
              name,
              '30s',
              async () => {
                inside += 1;
                most = Math.max(most, inside);
                await delay(10);
                inside -= 1;
                runs += 1;
                return i;
              },
              { wait: '20s' },
            ),
          ),
        ).then((results) => assert.deepEqual(results, [0, 1, 2, 3, 4], 'withLock returns the function result'));
        assert.equal(runs, 5);
        assert.equal(most, 1, 'two workers held the lock at once');
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'only the owner can release; release twice returns false',
      async (ctx) => {
        const cache = await ctx.cache();
        const name = uniqueKey('lock');
        const owner = cache.lock(name, '1m');
        const other = cache.lock(name, '1m');
        assert.equal(await owner.acquire(), true);
        assert.equal(await other.release(), false, 'release by a non-owner');
        assert.equal(await other.acquire(), false, 'still held after a foreign release');
        assert.equal(await owner.acquire(), false, 'acquire is not re-entrant');
        assert.equal(await owner.release(), true);
        assert.equal(await owner.release(), false, 'second release');
        assert.equal(await other.acquire(), true, 'free after the owner released');
        await other.release();
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'the lock frees itself when its TTL passes',
      async (ctx) => {
        const cache = await ctx.cache();
        const precision = await ctx.precisionMs();
        const ttl = Math.max(precision * 2, 200);
        const name = uniqueKey('lock');
        const first = cache.lock(name, ttl);
        const second = cache.lock(name, '1m');
        const start = performance.now();
        assert.equal(await first.acquire(), true);
        const early = await second.acquire();
        const elapsed = performance.now() - start;
        if (elapsed >= ttl - precision)
          ctx.skip(`inconclusive: ${Math.round(elapsed)}ms passed, past the ${ttl}ms lock TTL`);
        assert.equal(early, false, `a second owner acquired the lock ${Math.round(elapsed)}ms into its ${ttl}ms TTL`);
        await waitFor(() => second.acquire(), {
          timeout: ttl + precision + 3000,
          interval: 20,
          message: 'lock expiry',
        });
        assert.equal(await first.release(), false, 'the expired owner cannot release the new holder');
        assert.equal(await second.release(), true);
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'withLock releases the lock when the function throws',
      async (ctx) => {
        const cache = await ctx.cache();
        const name = uniqueKey('lock');
        const boom = new Error('inside the lock');
        await assert.rejects(
          cache.withLock(name, '1m', () => {
            throw boom;
          }),
          (error) => error === boom,
        );
        await assert.rejects(
          cache.withLock(name, '1m', async () => {
            await delay(1);
            throw boom;
          }),
          (error) => error === boom,
        );
        const next = cache.lock(name, '1m');
        assert.equal(await next.acquire(), true, 'free after the throw');
        await next.release();
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'block(wait) waits for a release, and times out with LockTimeoutError',
      async (ctx) => {
        const cache = await ctx.cache();
        const name = uniqueKey('lock');
        const holder = cache.lock(name, '1m');
        assert.equal(await holder.acquire(), true);
        const waiter = cache.lock(name, '1m');
        const start = performance.now();
        await expectError(() => waiter.block(300), LockTimeoutError, 'E_LOCK_TIMEOUT', 'block(300) on a held lock');
        const waited = performance.now() - start;
        assert.ok(waited >= 250, `gave up after ${Math.round(waited)}ms, before its 300ms wait`);
        assert.ok(waited < 5000, `gave up after ${Math.round(waited)}ms`);
        const blocked = waiter.block('10s');
        await delay(30);
        assert.equal(await holder.release(), true);
        await blocked;
        assert.equal(await holder.acquire(), false, 'the waiter holds it now');
        assert.equal(await waiter.release(), true);
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'withLock with a wait gives LockTimeoutError without running the function',
      async (ctx) => {
        const cache = await ctx.cache();
        const name = uniqueKey('lock');
        const holder = cache.lock(name, '1m');
        assert.equal(await holder.acquire(), true);
        let ran = false;
        await expectError(
          () =>
            cache.withLock(
              name,
              '1m',
              () => {
                ran = true;
              },
              { wait: 200 },
            ),
          LockTimeoutError,
          'E_LOCK_TIMEOUT',
          'withLock on a held lock',
        );
        assert.equal(ran, false);
        await holder.release();
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'a lock never shares a key with a cached value: set(k) then lock(k) acquires, get inside withLock(k) misses, remember’s lock leaves the user key `<k>:lock` alone',
      async (ctx) => {
        const cache = await ctx.cache();
        const job = uniqueKey('job');
        await cache.set(job, 'payload');
        const lock = cache.lock(job, '1m');
        assert.equal(await lock.acquire(), true, 'lock(name) on a cached key name');
        assert.equal(await cache.get(job), 'payload', 'the cached value under the lock name');
        await lock.release();
        const report = uniqueKey('report');
        assert.equal(await cache.withLock(report, '1m', () => cache.get(report)), undefined, 'get inside withLock');
        assert.equal(await cache.has(report), false, 'has inside withLock');
        await cache.set(`${report}:lock`, 'user data');
        assert.equal(await cache.remember(report, '1m', () => 'built', { lock: true }), 'built');
        assert.equal(await cache.get(`${report}:lock`), 'user data', 'remember with lock touched the user key');
        await assert.rejects(cache.set('__larder:lock:x', 1), InvalidKeyError, 'the reserved namespace is refused');
      },
      { needs: ['atomicAdd'] },
    );

    t.test(
      'keys() never lists held locks, and clear() removes them',
      async (ctx) => {
        const cache = await ctx.cache();
        const users = cache.namespace('users');
        await cache.set('a', 1);
        await users.set('b', 2);
        const held = [cache.lock('a', '1m'), cache.lock('other', '1m'), users.lock('b', '1m')];
        for (const lock of held) assert.equal(await lock.acquire(), true);
        assert.deepEqual((await collect(cache.keys())).sort(), ['a', 'users:b'], 'root keys()');
        assert.deepEqual(await collect(users.keys()), ['b'], 'namespace keys()');
        await cache.clear();
        assert.equal(await cache.lock('a', '1m').acquire(), true, 'clear() freed the lock');
        assert.equal(await users.lock('b', '1m').acquire(), true, 'clear() freed the namespace lock');
      },
      { needs: ['atomicAdd', 'enumerate', 'clear'] },
    );
  },
};
