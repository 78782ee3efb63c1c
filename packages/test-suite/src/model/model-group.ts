import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SuiteContext } from '../options';
import type { GroupDefinition } from '../registry';
import { type Command, type CommandProfile, commands, runSequence } from './commands';
import { ModelMismatch, ReferenceModel } from './model';

/**
 * Model-based tests: random call sequences through the facade, checked against `ReferenceModel`.
 * Runs stop starting new cases after a time budget (the rest pass without running), so a slow
 * backend runs fewer cases instead of timing out; a failure found is always reported.
 * `LARDER_MODEL_SEED` replays a reported seed.
 */
export const model: GroupDefinition = {
  title: 'model: random call sequences agree with a reference model (fast-check)',
  define(t) {
    t.test('without expiry: every answer matches the model', async (ctx) => {
      const setup = await prepare(ctx);
      const profile: CommandProfile = { ...setup.features, ttls: [undefined, 60_000], waits: [], maxLength: 30 };
      const budget = new Budget(5_000);
      const run = budget.wrap(async (sequence: Command[]) => {
        await runSequence(await ctx.cache(), new ReferenceModel(setup.precision, setup.limits), sequence, 0);
      });
      await assertProperty(fc.asyncProperty(commands(profile), run), 40);
      assert.ok(budget.ran > 0, 'no sequence ran');
    });

    t.test('with short TTLs and pauses: answers match the model within the TTL precision', async (ctx) => {
      const setup = await prepare(ctx);
      // One unit is the precision (at least 25 ms, so expiry is not lost in call latency).
      const unit = Math.max(setup.precision.precisionMs, 25);
      const profile: CommandProfile = {
        ...setup.features,
        ttls: [undefined, 60_000, 2 * unit, 3 * unit, 5 * unit],
        waits: [unit / 2, unit, 2 * unit, 3 * unit],
        maxLength: 30,
      };
      // Sequences pause for real, so a batch of them runs at once (each under its own prefix).
      const batch = fc.array(commands(profile), { minLength: BATCH, maxLength: BATCH });
      const budget = new Budget(10_000);
      const run = budget.wrap(async (sequences: Command[][]) => {
        const caches = await Promise.all(sequences.map(() => ctx.cache()));
        const results = await Promise.allSettled(
          sequences.map((sequence, i) =>
            runSequence(caches[i]!, new ReferenceModel(setup.precision, setup.limits), sequence, 6 * unit),
          ),
        );
        const failed = results.findIndex((result) => result.status === 'rejected');
        if (failed >= 0) {
          const reason = (results[failed] as PromiseRejectedResult).reason;
          if (reason instanceof ModelMismatch) throw new ModelMismatch(`sequence ${failed}: ${reason.message}`);
          throw reason;
        }
      });
      await assertProperty(fc.asyncProperty(batch, run), 3);
      assert.ok(budget.ran > 0, 'no batch ran');
    });
  },
};

/** Sequences run at once by the TTL test. */
const BATCH = 15;

/** Precision and supported operations, read from the store. */
async function prepare(ctx: SuiteContext) {
  const [capabilities, precisionMs, cache] = await Promise.all([ctx.capabilities(), ctx.precisionMs(), ctx.cache()]);
  const store = await cache.getStore();
  return {
    // In-process stores share our clock; a remote one is measured around a round trip.
    precision: { precisionMs, slackMs: capabilities.inProcess ? 2 : 10 },
    limits: {
      counterTakesCallTtl: ctx.limits.counterExpiry !== undefined,
      touchKeepsHeaderExpiry: ctx.limits.touchHeader !== undefined,
    },
    features: {
      add: capabilities.atomicAdd && typeof store.add === 'function' && ctx.skips.atomicAdd === undefined,
      increment: typeof store.increment === 'function' && ctx.skips.increment === undefined,
      touch: typeof store.touch === 'function',
      // Tagged entries need the metadata header: not on a raw-value store.
      tags: typeof cache.tags === 'function' && capabilities.rawValues !== true && ctx.skips.tags === undefined,
    },
  };
}

/**
 * A time budget for a property: past `ms` from the first case, further cases (shrinking
 * included) pass without running, so the run ends on time with the smallest failure found so far.
 */
class Budget {
  /** Cases that really ran. */
  ran = 0;
  #deadline = 0;

  constructor(readonly ms: number) {}

  /** The predicate, run only within the budget. */
  wrap<T>(predicate: (input: T) => Promise<void>): (input: T) => Promise<void> {
    return async (input) => {
      if (this.#deadline === 0) this.#deadline = performance.now() + this.ms;
      if (performance.now() > this.#deadline) return;
      this.ran += 1;
      await predicate(input);
    };
  }
}

/** `fc.assert` with `numRuns`, replaying `LARDER_MODEL_SEED` when set. */
function assertProperty<T>(property: fc.IAsyncProperty<[T]>, numRuns: number): Promise<void> {
  const seed = process.env.LARDER_MODEL_SEED;
  return fc.assert(property, { numRuns, includeErrorInReport: true, ...(seed ? { seed: Number(seed) } : {}) });
}
