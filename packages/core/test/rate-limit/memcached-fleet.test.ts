import { type MemcachedCluster, memcachedAsciiStats, startMemcached, waitFor } from '@larder/dev-services';
import { createMemcachedStore } from '@larder/memcached';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/cache';
import { UnsupportedOperationError } from '../../src/contract/errors';
import { expectExact, span } from './checks';
import { allDecisions, type Fleet, startFleet } from './fleet';

// 8 app instances (OS processes) × 25 concurrent callers on one key, limit 100; instance 0's
// clock runs 5 s ahead, instance 1's 5 s behind: memcached's own expiry is the only clock used.
const LIMIT = 100;
const INSTANCES = 8;
/** Clock offsets by instance: in every burst, instance 0 runs 5 s ahead and instance 1 5 s behind. */
const clockOffsets = [5000, -5000];

describe('rate limits across 8 processes on memcached', () => {
  let servers: MemcachedCluster;
  let fleet: Fleet;
  let n = 0;
  const key = () => `ip:198.51.100.${++n}`;

  beforeAll(async () => {
    servers = await startMemcached();
    fleet = await startFleet(
      Array.from({ length: INSTANCES }, () => ({
        driver: 'memcached' as const,
        prefix: 'rl:',
        memcachedServers: [servers.nodes[0]!.address],
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await servers?.stop();
  });

  const stats = async () => (await memcachedAsciiStats(servers.nodes[0]!)).stats;

  it('fixed: 200 callers, 400 hits → exactly the limit admitted, one INCR per decision (memcached stats)', async () => {
    const before = await stats();
    const results = await fleet.burst({
      limiter: { limit: LIMIT, window: '30s' },
      key: key(),
      callers: 25,
      hits: 2,
      clockOffsets,
    });
    const after = await stats();
    expect(span(results)).toBeLessThan(30_000);
    expectExact(results, LIMIT);
    const decisions = allDecisions(results).length;
    expect(decisions).toBe(INSTANCES * 25 * 2);
    const delta = (name: string) => Number(after[name]) - Number(before[name]);
    // The INCR that creates the key (initial value) counts in no incr_* stat: every other one is a hit.
    expect(delta('incr_hits')).toBe(decisions - 1);
    expect(delta('incr_misses')).toBe(0);
    for (const other of ['cmd_get', 'cmd_set', 'cmd_touch', 'decr_hits', 'decr_misses', 'delete_hits', 'delete_misses'])
      expect(delta(other), other).toBe(0);
  });

  it("the window closes on memcached's clock: a new window opens when the item expires", async () => {
    const k = key();
    const limiter = { limit: 5, window: '2s' };
    const [first] = await fleet.burst({ limiter, key: k, callers: 1, hits: 8 }, [2]);
    expect(first!.decisions.map((d) => d[0])).toEqual([1, 1, 1, 1, 1, 0, 0, 0]);
    const opened = first!.decisions[0]![1];
    // memcached's clock ticks in whole seconds: a 2 s item lives between 1 and 2 s.
    const reopened = await waitFor(
      async () => {
        const [r] = await fleet.burst({ limiter, key: k, callers: 1, hits: 1 }, [0]);
        return r!.decisions[0]![0] === 1 && r!.decisions[0]![1];
      },
      { timeoutMs: 5000, intervalMs: 50 },
    );
    expect(reopened - opened).toBeGreaterThanOrEqual(900);
    expect(reopened - opened).toBeLessThan(2600);
  });

  it('an instance 5 s ahead and one 5 s behind change no decision (alternating hits)', async () => {
    const k = key();
    const pattern: number[] = [];
    for (const instance of [0, 1, 0, 1, 2, 0]) {
      const [result] = await fleet.burst(
        { limiter: { limit: 3, window: '20s' }, key: k, callers: 1, hits: 1, clockOffsets },
        [instance],
      );
      pattern.push(result!.decisions[0]![0]);
    }
    expect(pattern).toEqual([1, 1, 1, 0, 0, 0]);
  });

  it('sliding and token bucket are refused with UnsupportedOperationError (no approximation); so are sub-second windows', async () => {
    const cache = new Cache({ store: createMemcachedStore({ servers: [servers.nodes[0]!.address] }) });
    try {
      for (const algorithm of ['sliding', 'token-bucket'] as const) {
        const hit = cache.rateLimiter({ limit: 10, window: '1m', algorithm }).hit('k');
        await expect(hit).rejects.toBeInstanceOf(UnsupportedOperationError);
        await expect(cache.rateLimiter({ limit: 10, window: '1m', algorithm }).hit('k')).rejects.toThrow(
          new RegExp(`memcached driver does not support the '${algorithm}' rate limit algorithm`),
        );
      }
      await expect(cache.rateLimiter({ limit: 10, window: 1500 }).hit('k')).rejects.toThrow(/whole seconds/);
      // Peek, refund and reset on the fixed window.
      const limiter = cache.rateLimiter({ limit: 3, window: '1m' });
      expect(await limiter.peek('p')).toMatchObject({ allowed: true, remaining: 3, resetMs: 0 });
      await limiter.hit('p', { cost: 3 });
      expect(await limiter.peek('p')).toMatchObject({ allowed: false, remaining: 0 });
      expect(await limiter.refund('p', { cost: 2 })).toMatchObject({ remaining: 2 });
      expect((await limiter.hit('p', { cost: 2 })).allowed).toBe(true);
      await limiter.reset('p');
      expect(await limiter.peek('p')).toMatchObject({ remaining: 3 });
    } finally {
      await cache.close();
    }
  });
});
