import type { CacheStore } from '@larder/core/driver';
import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/soak/backends';
import { formatTables } from '../src/soak/report';
import { slope } from '../src/soak/sample';
import { judge, runSoak, type SoakResult } from '../src/soak/soak';

const MiB = 1024 * 1024;
const sample = (heapMiB: number, handles = 3, timers = 1) => ({
  at: 0,
  heap: heapMiB * MiB,
  handles,
  sockets: 1,
  timers,
});
const counts = (unexpectedErrors = 0, samples: string[] = []) => ({
  ops: 100,
  expectedErrors: 5,
  unexpectedErrors,
  samples,
  churned: 2,
});
const run = (overrides: Partial<SoakResult> = {}): Omit<SoakResult, 'failures'> => ({
  seconds: 60,
  drivers: [{ driver: 'x', counts: counts() }],
  warmupMs: 20_000,
  before: sample(10, 2, 0),
  start: sample(12),
  end: sample(12),
  closed: sample(10, 2, 0),
  heapSlope: 0,
  heapGrowth: 0,
  samples: [],
  ...overrides,
});

describe('soak: judging growth', () => {
  it('fits a least-squares slope', () => {
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })))).toBeCloseTo(2);
    expect(slope([{ x: 1, y: 5 }])).toBe(0);
  });

  it('passes a flat run and fails each kind of growth, naming it', () => {
    expect(judge(run())).toEqual([]);
    expect(judge(run({ heapSlope: 3, heapGrowth: 3 }))[0]).toMatch(/heap grew 3\.00 MiB\/min/);
    // A steep slope over a short window (little absolute growth) is noise, not a leak.
    expect(judge(run({ heapSlope: 3, heapGrowth: 0.2 }))).toEqual([]);
    expect(judge(run({ end: sample(12, 9) }))[0]).toMatch(/handles grew under load: 3 -> 9/);
    expect(judge(run({ end: sample(12, 3, 8) }))[0]).toMatch(/timers grew under load: 1 -> 8/);
    expect(judge(run({ closed: sample(10, 3, 0) }))[0]).toMatch(/handles left after close: 3 \(before open: 2\)/);
    expect(judge(run({ closed: sample(10, 2, 1) }))[0]).toMatch(/timers left after close/);
    const failing = [{ driver: 'redis', counts: counts(2, ['TimeoutError: x']) }];
    expect(judge(run({ drivers: failing }))[0]).toMatch(/redis: 2 unexpected errors \(TimeoutError: x\)/);
  });
});

/** A memory backend whose stores misbehave as `leak` says. */
function leakyBackend(leak: 'heap' | 'timer'): Backend {
  const kept: unknown[] = [];
  return {
    open: async () => {
      const store = createMemoryStore({ maxEntries: 10_000 });
      if (leak === 'heap') {
        // Keeps a copy of every value written, padded to about 16 KiB so that the growth is plain
        // however few writes a loaded machine gets through (both write paths: the facade uses
        // setSync when present).
        const keep = (value: unknown) => kept.push([structuredClone(value), new Array(2048).fill(0)]);
        const { set, setSync } = store;
        store.set = (key, value, ttl) => {
          keep(value);
          return set.call(store, key, value, ttl);
        };
        store.setSync = (key, value, ttl) => {
          keep(value);
          setSync.call(store, key, value, ttl);
        };
        return store;
      }
      // A timer that close() forgets.
      const timer = setInterval(() => {}, 60_000);
      return Object.assign(store, { close: async () => void timer }) as CacheStore;
    },
    stop: async () => {
      kept.length = 0;
    },
  };
}

// 60 s unless LARDER_SOAK_SECONDS says otherwise (a third of any run is warm-up, the rest is
// judged). CI soaks 30 s on Node 20 and sets 0 on Node 22 and 24, where the soak is skipped: the
// whole run must stay under 20 minutes on a 2-core machine.
const soakSeconds = Number(process.env.LARDER_SOAK_SECONDS ?? 60);

// The detector's own tests wait 17 s; they run wherever the soak runs (not on CI's Node 22 and 24).
describe.skipIf(soakSeconds === 0)('soak: the detector on stores that leak', () => {
  const leaky = (leak: 'heap' | 'timer') => ({ seconds: 6, drivers: [leak], start: async () => leakyBackend(leak) });

  it('fails a store that keeps every value written (heap)', async () => {
    const result = await runSoak(leaky('heap'));
    expect(result.failures.join()).toMatch(/heap grew/);
  }, 60_000);

  it('fails a store whose close() leaves a timer', async () => {
    const result = await runSoak(leaky('timer'));
    expect(result.failures).toEqual([expect.stringMatching(/timers left after close: \d+ \(before open: \d+\)/)]);
  }, 60_000);
});

describe.skipIf(soakSeconds === 0)(
  `soak: ${soakSeconds} s of mixed load on every driver at once (the CI version of \`pnpm soak\`; skipped with LARDER_SOAK_SECONDS=0)`,
  () => {
    it('keeps heap, handles and timers flat on memory, redis, memcached and dynamodb', async () => {
      const result = await runSoak({ seconds: soakSeconds });
      console.log(formatTables(result));
      expect(result.drivers.map((d) => d.driver)).toEqual(['memory', 'redis', 'memcached', 'dynamodb']);
      expect(result.failures).toEqual([]);
      for (const { driver, counts } of result.drivers) {
        expect(counts.ops, driver).toBeGreaterThan(100);
        expect(counts.expectedErrors, driver).toBeGreaterThan(0);
        expect(counts.churned, driver).toBeGreaterThan(0);
      }
    }, 240_000);
  },
);
