import assert from 'node:assert/strict';
import { heldLoader, uniqueKey, waitFor } from '../helpers';
import type { SuiteContext } from '../options';
import type { GroupDefinition } from '../registry';

/** Two caches on the same prefix: `mine` runs `remember`, `other` writes meanwhile (another instance). */
async function pair(ctx: SuiteContext) {
  const prefix = ctx.uniquePrefix();
  return { mine: await ctx.cacheAt(prefix), other: await ctx.cacheAt(prefix), key: uniqueKey('stale') };
}

/** docs/architecture.md "Two tiers": `remember` never writes a loader's result over a value written after the loader began. */
export const rememberNeverStale: GroupDefinition = {
  title: "remember never writes a loader's result over a newer value",
  define(t) {
    t.test('a value set while the loader runs is kept; the caller still gets the loader value', async (ctx) => {
      const { mine, other, key } = await pair(ctx);
      const held = heldLoader('from loader');
      const loading = mine.remember(key, '1m', held.loader);
      await held.started;
      await other.set(key, 'newer', '1m');
      held.release();
      assert.equal(await loading, 'from loader');
      assert.equal(await other.get(key), 'newer');
    });

    t.test('a stale graced value refreshed while another instance rewrites it keeps the rewrite', async (ctx) => {
      const { mine, other, key } = await pair(ctx);
      const precision = await ctx.precisionMs();
      const ttl = Math.max(precision, 200);
      await mine.remember(key, ttl, () => 'v1', { grace: '1m' });
      // Past its logical TTL (a plain get misses) but within grace: remember serves it stale and refreshes.
      await waitFor(async () => (await other.get(key)) === undefined, { timeout: ttl * 4 + precision * 2 + 2000 });
      const held = heldLoader('refreshed');
      // Served stale while the held loader refreshes in the background (or, on a slow run where the
      // entry is gone, a plain miss: the loader's write must not win either way).
      const served = mine.remember(key, ttl, held.loader, { grace: '1m' });
      await held.started;
      await other.set(key, 'newer', '1m');
      held.release();
      assert.ok(['v1', 'refreshed'].includes(await served));
      await waitFor(async () => (await other.get(key)) === 'newer', { timeout: 2000 });
      // Give the background refresh time to (wrongly) write, then check it did not.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await other.get(key), 'newer');
    });

    t.test('with nothing written meanwhile, the loader value is stored', async (ctx) => {
      const { mine, other, key } = await pair(ctx);
      assert.equal(await mine.remember(key, '1m', () => 'loaded'), 'loaded');
      assert.equal(await other.get(key), 'loaded');
      assert.equal(await mine.remember(key, '1m', () => 'not again'), 'loaded');
    });
  },
};
