import assert from 'node:assert/strict';
import { collect, uniqueKey, waitFor } from '../helpers';
import type { Capability, SuiteContext } from '../options';
import { type GroupDefinition, type Registrar, RuntimeSkip } from '../registry';

type Outcome = { error?: unknown; skip?: string };
type Scenario = (ctx: SuiteContext, timing: Timing) => Promise<void>;

/** TTL under test and how long to wait for expiry. */
interface Timing {
  /** The TTL written, in ms: max(2 × precision, 200). */
  ttl: number;
  /** The backend's expiry precision in ms. */
  precision: number;
}

/**
 * Expiry scenarios all wait about one TTL, so they run concurrently: the first test of the pool
 * to run starts every active scenario, and each test awaits its own outcome. The suite's run
 * time then grows by one TTL, not by one TTL per test.
 */
class ScenarioPool {
  readonly #scenarios = new Map<string, Scenario>();
  #outcomes: Map<string, Promise<Outcome>> | undefined;

  /** Registers a scenario as a test of the group; it joins the pool only if not skipped. */
  register(t: Registrar, name: string, scenario: Scenario, needs?: readonly Capability[]): void {
    const active = t.test(
      name,
      async (ctx) => {
        const outcome = await this.#outcome(name, ctx);
        if (outcome.skip !== undefined) ctx.skip(outcome.skip);
        if (outcome.error !== undefined) throw outcome.error;
      },
      needs ? { needs } : {},
    );
    if (active) this.#scenarios.set(name, scenario);
  }

  #outcome(name: string, ctx: SuiteContext): Promise<Outcome> {
    if (!this.#outcomes) {
      const timing = ctx.precisionMs().then((precision) => ({ precision, ttl: Math.max(precision * 2, 200) }));
      this.#outcomes = new Map(
        [...this.#scenarios].map(([key, scenario]) => [
          key,
          timing
            .then((t) => scenario(ctx, t))
            .then(
              (): Outcome => ({}),
              (error: unknown): Outcome => (error instanceof RuntimeSkip ? { skip: error.reason } : { error }),
            ),
        ]),
      );
    }
    return this.#outcomes.get(name) ?? Promise.resolve({ error: new Error(`scenario ${name} was not started`) });
  }
}

/** Waits until `isGone()` and checks it did not happen before `ttl - precision` ms after `start`. */
async function expectExpiry(
  label: string,
  start: number,
  { ttl, precision }: Timing,
  isGone: () => Promise<boolean>,
): Promise<void> {
  const goneAt = await waitFor(async () => ((await isGone()) ? performance.now() : 0), {
    timeout: ttl + precision + 3000,
    interval: Math.min(50, Math.max(5, Math.floor(precision / 20))),
    message: `${label}: expiry after ${ttl}ms (precision ${precision}ms)`,
  });
  const after = goneAt - start;
  assert.ok(
    after >= ttl - precision - 25,
    `${label}: gone after ${Math.round(after)}ms, earlier than its TTL of ${ttl}ms (precision ${precision}ms)`,
  );
}

/** Waits until the control key is gone (one TTL later), then asserts `key` still holds `expected`. */
async function expectOutlives(
  label: string,
  cache: Awaited<ReturnType<SuiteContext['cache']>>,
  control: string,
  key: string,
  expected: unknown,
  timing: Timing,
): Promise<void> {
  await waitFor(async () => !(await cache.has(control)), {
    timeout: timing.ttl + timing.precision + 3000,
    interval: 20,
    message: `${label}: control key expired`,
  });
  assert.deepEqual(await cache.get(key), expected, `${label}: still present after the control key expired`);
}

const now = () => performance.now();

/**
 * Asserts `actual` equals `expected` (the value is still fresh), when the read finished less than
 * `ttl - precision` ms after `start`. Later than that the check proves nothing either way, so the
 * scenario stops as skipped ("inconclusive") rather than flaking on a slow machine.
 */
function assertFresh(
  label: string,
  start: number,
  { ttl, precision }: Timing,
  actual: unknown,
  expected: unknown,
): void {
  const elapsed = now() - start;
  if (elapsed >= ttl - precision) {
    throw new RuntimeSkip(
      `inconclusive: '${label}' was read ${Math.round(elapsed)}ms after writing, past the ${ttl}ms TTL (machine too slow)`,
    );
  }
  assert.deepEqual(actual, expected, `${label} (${Math.round(elapsed)}ms after writing, TTL ${ttl}ms)`);
}

/** Expiry of every write path, and of the facade's default TTL. */
export function createTtlGroups(): { ttl: GroupDefinition; defaultTtl: GroupDefinition } {
  const pool = new ScenarioPool();

  const ttl: GroupDefinition = {
    title: 'TTL expiry at the driver precision (scenarios run concurrently)',
    define(t) {
      pool.register(
        t,
        'set with a TTL: present before, gone after (get, has, getMany, pull, touch, delete)',
        async (ctx, timing) => {
          const cache = await ctx.cache();
          const key = uniqueKey();
          const start = now();
          await cache.set(key, 'v', timing.ttl);
          assertFresh('present right after set', start, timing, await cache.get(key), 'v');
          await expectExpiry('set', start, timing, async () => (await cache.get(key)) === undefined);
          assert.equal(await cache.has(key), false, 'has after expiry');
          assert.deepEqual(await cache.getMany([key]), [undefined], 'getMany after expiry');
          assert.equal(await cache.touch(key, '1m'), false, 'touch after expiry');
          assert.equal(await cache.pull(key), undefined, 'pull after expiry');
          assert.equal(await cache.delete(key), false, 'delete after expiry');
        },
      );

      pool.register(t, "a duration string TTL ('<n>ms') expires the same way", async (ctx, timing) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        const start = now();
        await cache.set(key, 1, `${timing.ttl}ms`);
        assertFresh('present right after set', start, timing, await cache.has(key), true);
        await expectExpiry('set with a string TTL', start, timing, async () => !(await cache.has(key)));
      });

      pool.register(t, 'setMany with a TTL expires every entry', async (ctx, timing) => {
        const cache = await ctx.cache();
        const [a, b] = [uniqueKey('a'), uniqueKey('b')];
        const start = now();
        await cache.setMany({ [a]: 1, [b]: 2 }, timing.ttl);
        assertFresh('present right after setMany', start, timing, await cache.getMany([a, b]), [1, 2]);
        await expectExpiry('setMany', start, timing, async () =>
          (await cache.getMany([a, b])).every((value) => value === undefined),
        );
      });

      pool.register(
        t,
        'add with a TTL expires, and add succeeds again over the expired key',
        async (ctx, timing) => {
          const cache = await ctx.cache();
          const key = uniqueKey();
          const start = now();
          assert.equal(await cache.add(key, 'first', timing.ttl), true);
          assertFresh('add while present', start, timing, await cache.add(key, 'second', timing.ttl), false);
          await expectExpiry('add', start, timing, async () => !(await cache.has(key)));
          assert.equal(await cache.add(key, 'third', '1m'), true, 'add after expiry');
          assert.equal(await cache.get(key), 'third');
        },
        ['atomicAdd'],
      );

      pool.register(
        t,
        'increment creates with the TTL, later increments keep that expiry, and an expired counter restarts at 0',
        async (ctx, timing) => {
          const cache = await ctx.cache();
          const key = uniqueKey();
          const start = now();
          assert.equal(await cache.increment(key, 1, timing.ttl), 1);
          assertFresh('second increment', start, timing, await cache.increment(key, 1), 2);
          assertFresh(
            'third increment (its 1h TTL applies to new keys only)',
            start,
            timing,
            await cache.increment(key, 1, '1h'),
            3,
          );
          await expectExpiry('increment', start, timing, async () => (await cache.get(key)) === undefined);
          assert.equal(await cache.increment(key, 1, '1m'), 1, 'restarts at 0 after expiry');
        },
        ['increment'],
      );

      pool.register(t, 'touch extends the expiry without changing the value', async (ctx, timing) => {
        const cache = await ctx.cache();
        const [key, control] = [uniqueKey(), uniqueKey('control')];
        const start = now();
        await Promise.all([cache.set(key, { v: 1 }, timing.ttl), cache.set(control, 1, timing.ttl)]);
        assertFresh('touch before expiry', start, timing, await cache.touch(key, '1m'), true);
        await expectOutlives('touch', cache, control, key, { v: 1 }, timing);
      });

      pool.register(
        t,
        'touch a number, then increment it: the counter keeps the new expiry',
        async (ctx, timing) => {
          const cache = await ctx.cache();
          const [key, control] = [uniqueKey(), uniqueKey('control')];
          const start = now();
          await Promise.all([cache.set(key, 5, timing.ttl), cache.set(control, 1, timing.ttl)]);
          assertFresh('touch before expiry', start, timing, await cache.touch(key, '1m'), true);
          // `set` wrote the number with its metadata header; the increment rewrites it as a plain counter.
          assertFresh('increment before expiry', start, timing, await cache.increment(key, 1), 6);
          await expectOutlives('increment after touch', cache, control, key, 6, timing);
        },
        // `touch` rewrites the expiry in the entry's header with a compare-and-set.
        ['increment', 'storeCompareAndSet'],
      );

      pool.register(t, 'touch shortens the expiry of a key stored forever', async (ctx, timing) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        await cache.set(key, 'v');
        const start = now();
        assert.equal(await cache.touch(key, timing.ttl), true);
        assert.equal(await cache.get(key), 'v');
        await expectExpiry('touch', start, timing, async () => !(await cache.has(key)));
      });

      pool.register(t, 'set without a TTL (and forever) replaces an earlier expiry', async (ctx, timing) => {
        const cache = await ctx.cache();
        const [a, b, control] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('control')];
        const start = now();
        await Promise.all([
          cache.set(a, 1, timing.ttl),
          cache.set(b, 1, timing.ttl),
          cache.set(control, 1, timing.ttl),
        ]);
        await cache.set(a, 2);
        await cache.forever(b, 3);
        // Both rewrites must land before the first expiry, else the check below proves nothing.
        assertFresh('rewrites before expiry', start, timing, true, true);
        await expectOutlives('set without TTL', cache, control, a, 2, timing);
        assert.equal(await cache.get(b), 3, 'forever after a TTL');
      });

      pool.register(t, 'remember stores with its TTL and loads again after expiry', async (ctx, timing) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        let calls = 0;
        const loader = () => {
          calls += 1;
          return calls;
        };
        const start = now();
        assert.equal(await cache.remember(key, timing.ttl, loader), 1);
        assertFresh('remember hit before expiry', start, timing, await cache.remember(key, timing.ttl, loader), 1);
        await expectExpiry('remember', start, timing, async () => !(await cache.has(key)));
        assert.equal(await cache.remember(key, '1m', loader), 2, 'loader runs again after expiry');
      });

      pool.register(
        t,
        'remember with grace serves the stale value past the TTL while one refresh runs',
        async (ctx, timing) => {
          const cache = await ctx.cache();
          const key = uniqueKey();
          let calls = 0;
          const loader = async () => {
            calls += 1;
            return calls;
          };
          const start = now();
          assert.equal(await cache.remember(key, timing.ttl, loader, { grace: '1m' }), 1);
          assertFresh('fresh value readable with get', start, timing, await cache.get(key), 1);
          await expectExpiry('remember TTL (grace)', start, timing, async () => (await cache.get(key)) === undefined);
          const stale = await Promise.all([1, 2, 3].map(() => cache.remember(key, '1m', loader, { grace: '1m' })));
          assert.deepEqual(stale, [1, 1, 1], 'stale value served within grace');
          await waitFor(async () => (await cache.get(key)) === 2, {
            timeout: 3000,
            message: 'background refresh stored',
          });
          assert.equal(calls, 2, 'one refresh for three stale reads');
        },
      );

      pool.register(
        t,
        'keys() does not list expired keys',
        async (ctx, timing) => {
          const cache = await ctx.cache();
          await cache.set('short', 1, timing.ttl);
          await cache.set('long', 1, '1m');
          assert.deepEqual((await collect(cache.keys())).sort(), ['long', 'short']);
          await waitFor(async () => !(await cache.has('short')), { timeout: timing.ttl + timing.precision + 3000 });
          assert.deepEqual(await collect(cache.keys()), ['long']);
        },
        ['enumerate'],
      );
    },
  };

  const defaultTtl: GroupDefinition = {
    title: 'default TTL (cache created with { ttl })',
    define(t) {
      pool.register(t, 'set, setMany and remember without a TTL use the default TTL', async (ctx, timing) => {
        const cache = await ctx.cache({ ttl: timing.ttl });
        const [a, b, c] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('c')];
        const start = now();
        await cache.set(a, 1);
        await cache.setMany({ [b]: 2 });
        assert.equal(await cache.remember(c, undefined, () => 3), 3);
        assertFresh('present right after writing', start, timing, await cache.getMany([a, b, c]), [1, 2, 3]);
        await expectExpiry('default TTL', start, timing, async () =>
          (await cache.getMany([a, b, c])).every((value) => value === undefined),
        );
      });

      pool.register(
        t,
        'add and a new counter without a TTL use the default TTL',
        async (ctx, timing) => {
          const cache = await ctx.cache({ ttl: timing.ttl });
          const [a, b] = [uniqueKey('a'), uniqueKey('b')];
          const start = now();
          assert.equal(await cache.add(a, 1), true);
          assert.equal(await cache.increment(b), 1);
          await expectExpiry('default TTL of add/increment', start, timing, async () =>
            (await cache.getMany([a, b])).every((value) => value === undefined),
          );
        },
        ['atomicAdd', 'increment'],
      );

      pool.register(t, 'an explicit TTL and forever override the default TTL', async (ctx, timing) => {
        const cache = await ctx.cache({ ttl: timing.ttl });
        const [explicit, forever, control] = [uniqueKey('explicit'), uniqueKey('forever'), uniqueKey('control')];
        await Promise.all([cache.set(explicit, 'e', '1m'), cache.forever(forever, 'f'), cache.set(control, 'c')]);
        await expectOutlives('explicit TTL', cache, control, explicit, 'e', timing);
        assert.equal(await cache.get(forever), 'f', 'forever ignores the default TTL');
      });
    },
  };

  return { ttl, defaultTtl };
}
