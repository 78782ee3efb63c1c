import { type RedisServer, redisCommandStats, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExact, maxInSlidingWindow, span } from './checks';
import { admitted, allDecisions, type Fleet, startFleet } from './fleet';

// 8 app instances (OS processes) × 25 concurrent callers on one key, limit 100; instance 0's
// clock runs 5 s ahead, instance 1's 5 s behind: on Redis no decision may depend on it.
const LIMIT = 100;
const INSTANCES = 8;
/** Clock offsets by instance: in every burst, instance 0 runs 5 s ahead and instance 1 5 s behind. */
const clockOffsets = [5000, -5000];

describe('rate limits across 8 processes on Redis', () => {
  let server: RedisServer;
  let fleet: Fleet;
  let n = 0;
  const key = () => `ip:203.0.113.${++n}`;

  beforeAll(async () => {
    server = await startRedis();
    fleet = await startFleet(
      Array.from({ length: INSTANCES }, () => ({
        driver: 'redis' as const,
        prefix: 'rl:',
        redisUrl: server.url,
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await server?.stop();
  });

  const commandStats = () => redisCommandStats(server);

  for (const algorithm of ['fixed', 'sliding'] as const) {
    it(`${algorithm}: 200 callers, 400 hits → exactly the limit admitted, in 1 server round trip (one script) per decision`, async () => {
      const limiter = { limit: LIMIT, window: '30s', algorithm };
      await fleet.burst({ limiter, key: 'warm-up', callers: 1, hits: 1 });
      const before = await commandStats();
      const results = await fleet.burst({ limiter, key: key(), callers: 25, hits: 2, clockOffsets });
      const after = await commandStats();
      expect(span(results)).toBeLessThan(30_000);
      expectExact(results, LIMIT);
      const decisions = allDecisions(results).length;
      expect(decisions).toBe(INSTANCES * 25 * 2);
      const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
      // Every decision is one EVALSHA (the script is loaded: no EVAL fallback); the INCRBYs, LLENs
      // and writes counted besides are the script's own calls, once per script run.
      expect(delta('evalsha') + delta('eval')).toBe(decisions);
      if (algorithm === 'fixed') {
        // The first hit finds no counter (PTTL) and makes it with its window (SET … PX); the others
        // count, then check: each one past the limit is taken back (DECRBY) in its script.
        expect(delta('pttl')).toBe(decisions);
        expect(delta('set')).toBe(1);
        expect(delta('incrby')).toBe(decisions - 1);
        expect(delta('decrby')).toBe(decisions - LIMIT);
        expect(delta('pexpire')).toBe(0);
      } else {
        expect(delta('llen')).toBe(decisions);
      }
    });
  }

  it('sliding: no 2× burst at a window edge; fixed: up to 2× (2 s window on the server clock)', async () => {
    // One hit opens the window; the load comes just before it ends and goes on past its edge.
    const edgeLoad = async (algorithm: 'fixed' | 'sliding') => {
      const limiter = { limit: LIMIT, window: '2s', algorithm };
      const k = key();
      const [opened] = await fleet.burst({ limiter, key: k, callers: 1, hits: 1 }, [2]);
      const [, at, resetMs] = opened!.decisions[0]!;
      await waitFor(() => Date.now() >= at + resetMs - 400, { timeoutMs: 5000, intervalMs: 10 });
      return [opened!, ...(await fleet.burst({ limiter, key: k, callers: 4, durationMs: 1000, clockOffsets }))];
    };
    const sliding = await edgeLoad('sliding');
    const fixed = await edgeLoad('fixed');
    // Answers arrive up to a few hundred ms after the server decided (a loaded 2-core box):
    // count within 2 s minus that slack.
    expect(maxInSlidingWindow(sliding, 2000, 300)).toBeLessThanOrEqual(LIMIT);
    expect(admitted(sliding)).toBeGreaterThanOrEqual(LIMIT);
    // The fixed window admits the rest of the limit before its edge and the whole limit again after.
    expect(maxInSlidingWindow(fixed, 2000, 300)).toBeGreaterThan(LIMIT * 1.5);
  }, 20_000);

  it('token bucket: a full bucket admits the limit, then refills at limit per window', async () => {
    const results = await fleet.burst({
      limiter: { limit: LIMIT, window: '2s', algorithm: 'token-bucket' },
      key: key(),
      callers: 4,
      durationMs: 1500,
      clockOffsets,
    });
    const total = admitted(results);
    const perSecond = LIMIT / 2;
    const admittedTimes = allDecisions(results)
      .filter((d) => d[0] === 1)
      .map((d) => d[1]);
    const admittedS = (admittedTimes.at(-1)! - admittedTimes[0]!) / 1000;
    // The burst, then 50 tokens a second: never more (1 token of rounding at the edges)...
    expect(total).toBeLessThanOrEqual(LIMIT + Math.ceil(perSecond * (span(results) / 1000)) + 1);
    // ...and not less (callers poll all the time, so each token is taken soon after it refills).
    expect(total).toBeGreaterThanOrEqual(LIMIT + Math.floor(perSecond * admittedS * 0.9) - 1);
  }, 20_000);

  it('an instance 5 s ahead and one 5 s behind change no decision (alternating hits)', async () => {
    for (const algorithm of ['fixed', 'sliding', 'token-bucket'] as const) {
      const k = key();
      const limiter = { limit: 3, window: '20s', algorithm };
      const pattern: number[] = [];
      for (const instance of [0, 1, 0, 1, 2, 0]) {
        const [result] = await fleet.burst({ limiter, key: k, callers: 1, hits: 1, clockOffsets }, [instance]);
        pattern.push(result!.decisions[0]![0]);
        // A window measured on the instance's own clock would put the ±5 s instances 10 s apart.
        if (result!.decisions[0]![0] === 1) expect(result!.decisions[0]![2]).toBeLessThanOrEqual(20_000);
      }
      expect(pattern, algorithm).toEqual([1, 1, 1, 0, 0, 0]);
    }
  });
});
