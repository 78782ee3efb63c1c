import { Cache, type LoaderContext } from '@larder/core';
import { type RedisReplicaSet, startRedisReplicaSet, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { commandStats } from './helpers';

// `notModified()` with L1s tracked on a primary and its replica (reads from the replica): every node
// reports the extension's rewrite, and each report makes an L1 check the key's header again on the
// primary (GETRANGE), never read the value (but the refresher's own, at most once: see below).

const L1S = 5;
const GRACE = { grace: '1h' } as const;
const keepStale = (context: LoaderContext) => {
  context.notModified();
  return undefined as unknown as string;
};
const valueReads = async (set: RedisReplicaSet) => {
  const all = await Promise.all(set.nodes.map((node) => commandStats(node)));
  return all.reduce((sum, stats) => sum + (stats.get ?? 0) + (stats.mget ?? 0), 0);
};

describe('notModified() across L1s tracked on a primary and a replica', () => {
  let set: RedisReplicaSet;
  let caches: Cache[];

  beforeAll(async () => {
    set = await startRedisReplicaSet({ replicas: 1, sentinels: 0 });
    const redis = { url: set.primary.url, replicaUrls: set.replicaUrls.split(','), readFrom: 'replica' } as const;
    // A long lease: a renewal's compare-and-set script runs a GET that Redis counts as a value read.
    const l1 = { lease: '1h' } as const;
    caches = Array.from({ length: L1S }, () => new Cache({ store: createRedisStore(redis), prefix: 'nmr:', l1 }));
    await Promise.all(caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
  }, 40_000);
  afterAll(async () => {
    await Promise.all((caches ?? []).map((cache) => cache.close()));
    await set?.stop();
  });

  it('no value read by the other L1s after the extension: each checks the header once per node that reports it', async () => {
    const [first, ...others] = caches as [Cache, ...Cache[]];
    await first.remember('k', 1000, () => 'first', GRACE);
    const inL1 = async (cache: Cache) => (await cache.rememberWithStatus('k', 1000, keepStale, GRACE)).tier === 'l1';
    await Promise.all(others.map((cache) => waitFor(() => inL1(cache), { description: 'held' })));
    await waitFor(async () => (await first.get('k')) === undefined, { description: 'stale' });
    await Promise.all(set.nodes.map((node) => node.command('CONFIG', 'RESETSTAT')));
    expect(await first.remember('k', '1m', keepStale, { ...GRACE, timeout: { soft: 10_000 } })).toBe('first');
    const ownReads = await valueReads(set);
    const checks = async () => (await commandStats(set.primary)).getrange ?? 0;
    // The replica has the rewrite, so both nodes' reports are on their way.
    await set.primary.command('WAIT', '1', '2000');
    // The primary and the replica each report the rewrite: each other L1 checks once per report
    // that finds its copy in place, once or twice (two reports close together make one check).
    // Settled: every other L1 checked, each holds its copy again, no check since the last look.
    let last = -1;
    await waitFor(
      async () => {
        const now = await checks();
        const held = (await Promise.all(caches.map((cache) => cache.describeL1()))).every((d) => d?.entries === 1);
        const settled = held && now >= L1S - 1 && now === last;
        last = now;
        return settled;
      },
      { timeoutMs: 10_000, intervalMs: 100, description: 'a check by every other L1, each holding its copy again' },
    );
    // At most one check per report and L1, and the refresher's one more (see below).
    expect(await checks()).toBeLessThanOrEqual(2 * L1S + 1);
    const seen = [];
    for (const cache of caches)
      for (let i = 0; i < 5; i++) seen.push(await cache.rememberWithStatus('k', '1m', keepStale, GRACE));
    const reads = (await valueReads(set)) - ownReads;
    console.log(
      `scenario 5 with a replica: ${L1S} L1s × 5 calls after notModified: value reads ${reads}, header checks ${await checks()}`,
    );
    // The refresher may read once: a report of its own write that comes after its copy was checked
    // (the replica's, late) takes the copy out for another check, which a call may overtake.
    expect(reads).toBeLessThanOrEqual(1);
    for (const status of seen.slice(5)) expect(status).toMatchObject({ value: 'first', status: 'hit', tier: 'l1' });
  }, 30_000);
});
