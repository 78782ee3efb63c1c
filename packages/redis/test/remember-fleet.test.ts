import { fileURLToPath } from 'node:url';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { commandStats } from './helpers';
import { forkIpcInstance, type IpcInstance } from './ipc-instance';
import type { Reply, Request } from './remember-fleet/protocol';

// issue #39 "Done means", scenarios 1, 2, 3, 4, 6 and 8, and 5 in part: eight app instances, each its own OS process, on
// one real redis-server. Durations are scaled down from the (a 2 s outage instead of 60 s,
// 3 s of a hot key instead of 2 minutes); the bounds keep the ratios.

const INSTANCE = fileURLToPath(new URL('./remember-fleet/instance.ts', import.meta.url));
const FLEET = 8;

type Instance = IpcInstance<Request, Reply>;

const sum = (replies: Reply[], field: 'runs' | 'aborted') =>
  replies.reduce((total, reply) => total + (reply[field] ?? 0), 0);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
};

describe('remember across a fleet of 8 processes on Redis (issue #39)', () => {
  let server: RedisServer;
  let fleet: Instance[];
  let cache: Cache;
  let store: ReturnType<typeof createRedisStore>;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url });
    cache = new Cache({ store, prefix: 'fleet:' });
    fleet = await Promise.all(
      Array.from({ length: FLEET }, () =>
        forkIpcInstance<Request, Reply>(INSTANCE, { LARDER_FLEET_URL: server.url }, 'remember instance'),
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all((fleet ?? []).map((instance) => instance.stop()));
    await cache?.close();
    await server?.stop();
  });

  /** Writes `key` with a 50 ms TTL and an hour of grace, and waits until it is stale. */
  async function staleKey(key: string): Promise<void> {
    await cache.remember(key, 50, () => 'old', { grace: '1h' });
    await waitFor(async () => (await cache.get(key)) === undefined, { timeoutMs: 5000 });
  }

  it('scenario 1: a 3 s loader, soft 100 ms, a stale value — every caller answered by the soft bound, one run across the fleet, the new value everywhere within 3 s', async () => {
    await staleKey('slow');
    const options = { grace: '1h', lock: { ttl: '10s', wait: '10s' }, timeout: { soft: 100 } };
    const started = performance.now();
    const replies = await Promise.all(
      fleet.map((instance) =>
        instance.call({ op: 'once', key: 'slow', callers: 5, mode: 'slow', sourceMs: 3000, options }),
      ),
    );
    const outcomes = replies.flatMap((reply) => reply.outcomes ?? []);
    const latencies = outcomes.map((outcome) => outcome.ms);
    await waitFor(async () => (await cache.get('slow')) !== undefined, { timeoutMs: 6000, intervalMs: 20 });
    const freshMs = performance.now() - started;
    console.log(
      `scenario 1: ${outcomes.length} callers, latency max ${Math.max(...latencies).toFixed(0)} ms, loader runs ${sum(replies, 'runs')}, new value readable after ${freshMs.toFixed(0)} ms`,
    );
    expect(outcomes.every((outcome) => outcome.result === 'ok')).toBe(true);
    // The soft bound plus a store read and a loaded runner's scheduling (eight busy processes on two
    // cores: 107-144 ms on a quiet run, 318-497 ms seen under load): far below the loader's 3 s, which
    // a caller that waited on it would take.
    expect(Math.max(...latencies)).toBeLessThanOrEqual(100 + 500);
    expect(sum(replies, 'runs')).toBe(1);
    expect(freshMs).toBeLessThan(3000 + 1000);
    expect(freshMs).toBeGreaterThanOrEqual(3000);
  }, 30_000);

  it('scenario 2: a hung loader with hard 1 s — every caller rejects at 1 s, one run, its signal aborted, the lock free at once', async () => {
    const options = { lock: { ttl: '30s', wait: '30s' }, timeout: { hard: 1000 } };
    const replies = await Promise.all(
      fleet.map((instance) => instance.call({ op: 'once', key: 'hung', callers: 5, mode: 'hung', options })),
    );
    const outcomes = replies.flatMap((reply) => reply.outcomes ?? []);
    const latencies = outcomes.map((outcome) => outcome.ms);
    console.log(
      `scenario 2: ${outcomes.length} callers, latency min ${Math.min(...latencies).toFixed(0)} ms max ${Math.max(...latencies).toFixed(0)} ms, loader runs ${sum(replies, 'runs')}`,
    );
    expect(outcomes).toHaveLength(FLEET * 5);
    expect(outcomes.every((outcome) => outcome.result === 'E_LOADER_TIMEOUT')).toBe(true);
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(995);
    // At the bound, not at the lock's 30 s wait: a loaded CI runner fires the timers of 8 busy
    // processes late (1,072-1,252 ms seen with three test files in parallel on two cores).
    expect(Math.max(...latencies)).toBeLessThanOrEqual(1600);
    expect(sum(replies, 'runs')).toBe(1);
    expect(sum(replies, 'aborted')).toBe(1);
    // The lock is free: its key is gone, and the next caller's run starts and ends at once.
    expect(await store.get('fleet:__larder:remember:hung')).toBeUndefined();
    const [next] =
      (await (fleet[1] as Instance).call({ op: 'once', key: 'hung', callers: 1, mode: 'slow', options })).outcomes ??
      [];
    expect(next?.result).toBe('ok');
    expect(next?.ms).toBeLessThan(250);
  }, 30_000);

  it('scenario 3: the source down 2 s under 8 × 100 requests/s past the TTL — at most 2 s / backoff + 8 loader runs with `failure`, thousands without', async () => {
    await Promise.all([staleKey('down-today'), staleKey('down-backoff')]);
    const load = { op: 'load', ms: 2000, rps: 100, mode: 'down', sourceMs: 0, ttl: 50 } as const;
    const backoffMs = 400;
    const started = performance.now();
    const [today, backedOff] = await Promise.all([
      Promise.all(fleet.map((instance) => instance.call({ ...load, key: 'down-today', options: { grace: '1h' } }))),
      Promise.all(
        fleet.map((instance) =>
          instance.call({
            ...load,
            key: 'down-backoff',
            options: { grace: '1h', failure: { backoff: backoffMs, max: backoffMs } },
          }),
        ),
      ),
    ]);
    // The outage lasts 2 s in each process; processes that start late on a loaded runner stretch it
    // for the fleet, so the bound counts the backoff windows of the span the parent saw.
    const spanMs = performance.now() - started;
    const bound = Math.ceil(spanMs / backoffMs) + FLEET;
    const requests = backedOff.reduce((total, reply) => total + (reply.latencies?.length ?? 0), 0);
    console.log(
      `scenario 3: ${requests} requests per key over ${spanMs.toFixed(0)} ms; loader runs without failure ${sum(today, 'runs')}, with failure ${sum(backedOff, 'runs')} (bound ${bound})`,
    );
    expect(sum(backedOff, 'runs')).toBeLessThanOrEqual(bound);
    expect(sum(backedOff, 'runs')).toBeGreaterThanOrEqual(2000 / backoffMs - 1);
    expect(sum(today, 'runs')).toBeGreaterThan(10 * (2000 / backoffMs + FLEET));
    // The graced value was served meanwhile: every request answered.
    expect(requests).toBeGreaterThan(FLEET * 100 * 1.5);
  }, 60_000);

  it('scenario 4: refresh-ahead on a hot key — about one loader run per TTL cycle across the fleet, and no caller waits on the source', async () => {
    // A source slow enough that a wait on it stands out of a loaded runner's scheduling noise.
    const ttl = 1500;
    const sourceMs = 400;
    const ms = 3000;
    await cache.remember('hot-ahead', ttl, () => 'first', { refreshAhead: { at: 0.5 } });
    await cache.remember('hot-today', ttl, () => 'first');
    const load = { op: 'load', ms, rps: 50, mode: 'slow', sourceMs, ttl } as const;
    const [ahead, today] = await Promise.all([
      Promise.all(
        fleet.map((instance) =>
          instance.call({ ...load, key: 'hot-ahead', options: { refreshAhead: { at: 0.5, jitter: 0.1 } } }),
        ),
      ),
      Promise.all(fleet.map((instance) => instance.call({ ...load, key: 'hot-today', options: {} }))),
    ]);
    const aheadLatencies = ahead.flatMap((reply) => reply.latencies ?? []);
    const todayLatencies = today.flatMap((reply) => reply.latencies ?? []);
    console.log(
      `scenario 4: loader runs with refreshAhead ${sum(ahead, 'runs')} (cycles ${ms / (ttl * 0.4)} at most), without ${sum(today, 'runs')}; p50/p99/max with ${percentile(aheadLatencies, 50).toFixed(1)}/${percentile(aheadLatencies, 99).toFixed(1)}/${Math.max(...aheadLatencies).toFixed(0)} ms, without ${percentile(todayLatencies, 50).toFixed(1)}/${percentile(todayLatencies, 99).toFixed(1)}/${Math.max(...todayLatencies).toFixed(0)} ms`,
    );
    // A refresh starts past 40-50 % of the TTL: at most one per 0.4 TTL across the fleet, plus the last one in flight.
    expect(sum(ahead, 'runs')).toBeLessThanOrEqual(ms / (ttl * 0.4) + 1);
    expect(sum(ahead, 'runs')).toBeGreaterThanOrEqual(ms / ttl - 1);
    // No caller waited on the source: the TTL boundary is never reached. A loaded runner stalls a
    // few calls that long on its own (eight processes on two cores), so at most 0.5 % may take it.
    const aheadWaits = aheadLatencies.filter((latency) => latency >= sourceMs).length;
    expect(aheadWaits).toBeLessThanOrEqual(Math.ceil(aheadLatencies.length * 0.005));
    // Without it every boundary is a latency step (each instance's callers wait on its own run).
    expect(todayLatencies.filter((latency) => latency >= sourceMs).length).toBeGreaterThan(5 * aheadWaits);
  }, 60_000);

  it('scenario 8: rememberMany of 1,000 keys with 600 cached, 8 callers in each process — one loadMany call per process with the 400 missing keys, shared by its callers', async () => {
    // rememberMany takes no fleet lock: what holds across processes is that each process loads the
    // keys it misses once (its callers share that load), so the fleet makes at most 8 loadMany
    // calls, no value is overwritten (each is stored only if its key still holds what the read
    // found), and a caller gets per key its process's load or the stored value: one value per key
    // in a process, the same everywhere once the writes are in. Every loadMany here is held until all 8 have started, so that each process misses
    // exactly the 400 keys; without the gate a process reading after another's writes loads fewer.
    const keys = Array.from({ length: 1000 }, (_, i) => `many:k${i}`);
    const cached = (i: number) => i % 5 < 3;
    await cache.setMany(
      keys.filter((_, i) => cached(i)).map((key) => [key, `cached:${key}`] as const),
      '1m',
    );
    const missing = keys.filter((_, i) => !cached(i));
    const round = { op: 'many', count: keys.length, callers: 4, late: 4 } as const;
    await Promise.all(fleet.map((instance) => instance.call({ ...round, gated: true })));
    const replies = await Promise.all(fleet.map((instance) => instance.call({ op: 'release' })));
    console.log(
      `scenario 8: loadMany calls per process ${replies.map((reply) => reply.calls?.length).join(',')}, keys per call ${replies.map((reply) => reply.calls?.map((call) => call.length).join('+')).join(',')}`,
    );
    // The store keeps one process's load per key (each value stored only if the key was still absent).
    const pids = new Set(fleet.map((instance) => instance.pid));
    const stored = (await cache.getMany(missing)) as (string | undefined)[];
    stored.forEach((value, i) => {
      const [key, pid] = (value ?? '').split('@');
      expect(key).toBe(missing[i]);
      expect(pids.has(Number(pid))).toBe(true);
    });
    const winner = new Map(missing.map((key, i) => [key, stored[i]]));
    replies.forEach((reply, n) => {
      const pid = (fleet[n] as Instance).pid;
      // One call, with exactly the missing keys, for the 4 callers at once and the 4 that came while it ran.
      expect(reply.calls).toEqual([missing]);
      expect(reply.values).toHaveLength(8);
      // loadMany answers `<key>@<pid>`: the 4 first callers got their process's one load (a loser of
      // the never-stale write still returns what it loaded, so processes differ here)...
      const own = keys.map((key, i) => (cached(i) ? `cached:${key}` : `${key}@${pid}`));
      for (const values of reply.values?.slice(0, 4) ?? []) expect(values).toEqual(own);
      // ...and a late one either joined that load or read after another process's write: the stored value.
      for (const values of reply.values?.slice(4) ?? []) {
        expect(values.filter((value, i) => value !== own[i] && value !== winner.get(keys[i] as string))).toEqual([]);
      }
    });
    // From then on every caller in the fleet gets the same value per key, and nothing is loaded.
    const again = await Promise.all(fleet.map((instance) => instance.call({ ...round, gated: false })));
    const expected = keys.map((key, i) => (cached(i) ? `cached:${key}` : winner.get(key)));
    for (const reply of again) {
      expect(reply.calls).toEqual([]);
      expect(reply.values).toHaveLength(8);
      for (const values of reply.values ?? []) expect(values).toEqual(expected);
    }
  }, 30_000);

  it('scenario 5, in part: notModified() with an L1 in each of the 8 processes — the TTL extended everywhere, at most one value read per instance after it', async () => {
    // notModified() rewrites the entry's bounds only, and each L1 that heard its hint checks the
    // key's header (GETRANGE) instead of reading the value: zero value re-reads where every L1 holds
    // the value and is checked before the calls (not-modified-l1.test.ts, 20 L1s). Here the warm-up
    // races its own fills (a read that began before an L1 heard the write is not kept) and the calls
    // may start while a check is in flight, so the bound stays one read per instance.
    // Every call's source answers "not modified", and a stale value's caller waits for the run (soft
    // timeout; else it is answered at once and refreshed behind it): a warm-up slower than the
    // 1 s TTL on a loaded runner refreshes the value without changing it, and is over at its reply.
    const l1 = {
      op: 'l1',
      key: 'not-modified',
      notModified: true,
      options: { grace: '1h', timeout: { soft: 10_000 } },
    } as const;
    await cache.remember(l1.key, 1000, () => 'first', l1.options);
    // Every L1 holds the value (read twice: a first read that raced the write's invalidation is not
    // kept), then it goes stale.
    const warm = await Promise.all(fleet.map((instance) => instance.call({ ...l1, ttl: 1000, times: 2 })));
    expect(warm.flatMap((reply) => reply.results)).toEqual(Array(2 * FLEET).fill('first'));
    await waitFor(async () => (await cache.get(l1.key)) === undefined, { timeoutMs: 5000 });
    // One instance refreshes it: the value stands, its life extended by a minute.
    const refreshed = await (fleet[0] as Instance).call({ ...l1, ttl: 60_000, times: 1 });
    expect(refreshed).toMatchObject({ runs: 1, results: ['first'] });
    await waitFor(async () => (await cache.get(l1.key)) === 'first', { timeoutMs: 5000 });
    const checks = (await commandStats(server)).getrange ?? 0;
    await server.command('CONFIG', 'RESETSTAT');
    const replies = await Promise.all(fleet.map((instance) => instance.call({ ...l1, ttl: 60_000, times: 5 })));
    const stats = await commandStats(server);
    const reads = (stats.get ?? 0) + (stats.mget ?? 0);
    console.log(
      `scenario 5: ${FLEET * 5} calls after notModified, value reads at the server ${reads} (get ${stats.get ?? 0}, mget ${stats.mget ?? 0}, header checks ${checks} before them), loader runs ${sum(replies, 'runs')}`,
    );
    // The TTL is extended everywhere: every call in every process is a fresh hit of the kept value.
    expect(sum(replies, 'runs')).toBe(0);
    expect(replies.flatMap((reply) => reply.results)).toEqual(Array(FLEET * 5).fill('first'));
    expect(await cache.get(l1.key)).toBe('first');
    // Without the L1s the 40 calls would be 40 reads; with them, each instance's L1 reads once, and
    // once more where a loaded machine let a lease renewal fall overdue (the L1 then answers from
    // the store until it lands: 10 reads seen under a load average of 15).
    expect(reads).toBeLessThanOrEqual(2 * FLEET);
  }, 30_000);

  it('scenario 6: a loader running five times the lock TTL stays one run across the fleet (the lock renews itself)', async () => {
    const options = { lock: { ttl: 300, wait: '10s' } };
    const replies = await Promise.all(
      fleet.map((instance) =>
        instance.call({ op: 'once', key: 'renewed', callers: 2, mode: 'slow', sourceMs: 1500, options }),
      ),
    );
    const outcomes = replies.flatMap((reply) => reply.outcomes ?? []);
    console.log(`scenario 6: ${outcomes.length} callers, loader runs ${sum(replies, 'runs')}`);
    expect(outcomes.every((outcome) => outcome.result === 'ok')).toBe(true);
    expect(sum(replies, 'runs')).toBe(1);
  }, 30_000);
});
