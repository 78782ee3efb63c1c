import {
  type CountingProxy,
  type DynamoDbLocal,
  startCountingProxy,
  startDynamoDbLocal,
  waitFor,
} from '@larder/dev-services';
import { createDynamoDbStore, createTables } from '@larder/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/cache';
import { UnsupportedOperationError } from '../../src/contract/errors';
import { expectExact } from './checks';
import { allDecisions, type Fleet, startFleet } from './fleet';

// 8 app instances (OS processes) × 25 concurrent callers on one key, limit 100, through a proxy
// that counts what DynamoDB Local is asked. DynamoDB has no clock: windows are the app's (see
// the README), so instance 0 runs 6 s ahead and instance 1 6 s behind only in the tolerance tests.
const clockOffsets = [6000, -6000];
const LIMIT = 100;
const INSTANCES = 8;
const WINDOW_MS = 60_000;

describe('rate limits across 8 processes on DynamoDB Local', () => {
  let server: DynamoDbLocal;
  let proxy: CountingProxy;
  let fleet: Fleet;
  let n = 0;
  const key = () => `ip:192.0.2.${++n}`;
  /** Waits until the current window of `windowMs` (app clock) has at least `ms` behind it and ahead of it. */
  const awayFromEdges = (windowMs: number, ms: number) =>
    waitFor(() => Date.now() % windowMs >= ms && Date.now() % windowMs <= windowMs - ms, {
      timeoutMs: windowMs,
      intervalMs: 100,
    });

  beforeAll(async () => {
    server = await startDynamoDbLocal();
    const { endpoint, region, credentials } = server;
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
    proxy = await startCountingProxy(endpoint);
    fleet = await startFleet(
      Array.from({ length: INSTANCES }, () => ({
        driver: 'dynamodb' as const,
        prefix: 'rl:',
        dynamodb: { endpoint: proxy.endpoint, region, credentials },
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await proxy?.close();
    await server?.stop();
  });

  it('fixed: 200 callers, 200 hits → exactly the limit admitted, one UpdateItem per decision (counted at the server side)', async () => {
    const limiter = { limit: LIMIT, window: WINDOW_MS };
    proxy.counts.clear();
    const results = await fleet.burst({ limiter, key: key(), callers: 25, hits: 1 });
    expect(new Set(allDecisions(results).map((d) => d[4]))).toEqual(new Set(['store']));
    // The burst may straddle a window edge: count per window (answer time + resetMs is its end).
    // Either way one window saw at least half the 200 hits, so it must admit the whole limit.
    const perWindow = new Map<number, number>();
    for (const [allowed, at, resetMs] of allDecisions(results)) {
      const window = Math.floor((at + resetMs) / WINDOW_MS);
      perWindow.set(window, (perWindow.get(window) ?? 0) + allowed);
    }
    expect(Math.max(...perWindow.values()), JSON.stringify([...perWindow])).toBeLessThanOrEqual(LIMIT);
    if (perWindow.size === 1) expectExact(results, LIMIT);
    else expect(Math.max(...perWindow.values())).toBeGreaterThanOrEqual(LIMIT * 0.95);
    const decisions = allDecisions(results).length;
    expect(decisions).toBe(INSTANCES * 25);
    expect(Object.fromEntries(proxy.counts)).toEqual({ UpdateItem: decisions });
  }, 120_000);

  it('tolerance: clocks 6 s apart decide alike more than 6 s from a window edge', async () => {
    await awayFromEdges(WINDOW_MS, 7000);
    const k = key();
    const pattern: number[] = [];
    for (const instance of [0, 1, 0, 1, 2, 0]) {
      const [result] = await fleet.burst(
        { limiter: { limit: 3, window: WINDOW_MS }, key: k, callers: 1, hits: 1, clockOffsets },
        [instance],
      );
      pattern.push(result!.decisions[0]![0]);
    }
    expect(pattern).toEqual([1, 1, 1, 0, 0, 0]);
  }, 60_000);

  it('a window item outlives its window: an instance 6 s behind still counts into it after the TTL sweeper ran', async () => {
    // DynamoDB Local deletes an item about a second after its expiry, as DynamoDB may at any time
    // after it. Were the item of a window to expire at the window's end, the instance whose clock
    // is behind would recreate it from zero and admit the limit a second time in that window.
    const windowMs = 10_000;
    const limiter = { limit: 3, window: windowMs };
    await awayFromEdges(windowMs, 1000);
    const k = key();
    const [filled] = await fleet.burst({ limiter, key: k, callers: 1, hits: 3 }, [2]);
    expect(filled!.decisions.map((d) => d[0])).toEqual([1, 1, 1]);
    const [, at, resetMs] = filled!.decisions[2]!;
    await waitFor(() => Date.now() >= at + resetMs + 3000, { timeoutMs: windowMs + 5000, intervalMs: 100 });
    const [late] = await fleet.burst({ limiter, key: k, callers: 1, hits: 1, clockOffsets }, [1]);
    expect(late!.decisions[0]![0]).toBe(0);
  }, 60_000);

  it('sliding and token bucket are refused with UnsupportedOperationError; peek, refund and reset on the fixed window', async () => {
    const { region, credentials } = server;
    const cache = new Cache({ store: createDynamoDbStore({ endpoint: proxy.endpoint, region, credentials }) });
    try {
      for (const algorithm of ['sliding', 'token-bucket'] as const) {
        await expect(cache.rateLimiter({ limit: 10, window: '1m', algorithm }).hit('k')).rejects.toBeInstanceOf(
          UnsupportedOperationError,
        );
      }
      await awayFromEdges(3_600_000, 3000);
      const limiter = cache.rateLimiter({ limit: 3, window: '1h' });
      expect(await limiter.peek('p')).toMatchObject({ allowed: true, remaining: 3, resetMs: 0 });
      expect((await limiter.hit('p', { cost: 3 })).allowed).toBe(true);
      const denied = await limiter.hit('p');
      expect(denied).toMatchObject({ allowed: false, remaining: 0 });
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(3_600_000);
      expect(await limiter.refund('p', { cost: 2 })).toMatchObject({ remaining: 2 });
      expect((await limiter.hit('p', { cost: 2 })).allowed).toBe(true);
      await limiter.reset('p');
      expect(await limiter.peek('p')).toMatchObject({ remaining: 3 });
    } finally {
      await cache.close();
    }
  }, 60_000);
});
