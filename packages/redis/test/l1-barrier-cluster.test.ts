import { Cache } from '@larder/core';
import { type RedisCluster, startRedisCluster, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../src/cluster-slots';
import { createRedisStore } from '../src/index';
import { commandStats, hostPorts } from './helpers';

// The L1 barrier on a Redis Cluster store (tracking on every node): the fleet's quiet keys
// (leases, the registry, acknowledgements) share one hash tag, so a barrier reads the N leases and
// the N acknowledgements in one MGET each, not one per slot (about 4 N commands before), and the
// barrier still waits for every instance.

const N = 24;
const PREFIX = 'blc:';
const BARRIERS = 8;

describe('the L1 barrier on a Redis Cluster store', () => {
  let cluster: RedisCluster;
  let caches: Cache[];
  /** Commands every master ran, by name, summed. */
  const stats = async () => {
    const all = await Promise.all((await cluster.masters()).map((node) => commandStats(node)));
    const sum = (name: string) => all.reduce((total, one) => total + (one[name] ?? 0), 0);
    const total = all.reduce((t, one) => t + Object.values(one).reduce((a, b) => a + b, 0), 0);
    return { total, mget: sum('mget') };
  };

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    caches = Array.from(
      { length: N },
      () =>
        new Cache({
          store: createRedisStore({ clusterNodes: hostPorts(cluster.startupNodes) }),
          prefix: PREFIX,
          l1: {},
        }),
    );
    await waitFor(
      async () => (await Promise.all(caches.map((cache) => cache.describeL1()))).every((d) => d?.state === 'up'),
      { timeoutMs: 15_000, description: 'the L1s up' },
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all((caches ?? []).map((cache) => cache.close()));
    await cluster?.stop();
  });

  it(`keeps every fleet key in one slot; a barrier of ${N} instances costs about N + 10 commands, and no instance serves the invalidated entry`, async () => {
    const [writer, ...readers] = caches as [Cache, ...Cache[]];
    // Where the fleet's keys are: one slot, whatever the instance.
    const fleetKeys: string[] = [];
    for (const node of await cluster.masters())
      fleetKeys.push(...((await node.command('KEYS', '*__larder:fleet:*')) as string[]));
    expect(fleetKeys.length).toBeGreaterThanOrEqual(N + 1); // N leases and the registry
    expect(new Set(fleetKeys.map(keySlot)).size).toBe(1);
    expect((await writer.describeL1())?.fleet).toMatchObject({ leaseHeld: true, stateIn: 'store' });

    const perBarrier: { total: number; mget: number }[] = [];
    for (let round = 0; round < BARRIERS; round++) {
      await writer.tags(['t']).set('k', round);
      for (const reader of readers) expect(await reader.get('k')).toBe(round);
      const before = await stats();
      await writer.invalidateTags(['t']);
      const after = await stats();
      // Each stats call is one INFO per master: not the barrier's.
      perBarrier.push({ total: after.total - before.total - 3, mget: after.mget - before.mget });
      // Resolved: no instance serves the entry any more (each L1 dropped it before acknowledging).
      for (const reader of readers) expect(await reader.get('k')).toBeUndefined();
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const total = median(perBarrier.map((one) => one.total));
    const mgets = median(perBarrier.map((one) => one.mget));
    console.log(
      `L1 barrier on a 3-master Cluster, ${N} instances: median ${total} commands, ${mgets} MGETs per barrier`,
    );
    // N - 1 acknowledgements, the fence, its counter, the registry, one MGET of the leases, one or
    // two polls of the acks (each one MGET), and the lease renewals that fall in (a script: 3
    // entries in commandstats each, N per lease / 3): about N + 10, where one MGET per slot was 4 N.
    expect(mgets).toBeLessThanOrEqual(4);
    expect(total).toBeLessThan(N + 10 + N / 2);
  });
});
