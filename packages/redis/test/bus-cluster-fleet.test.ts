import { Cache } from '@larder/core';
import { type RedisCluster, type RedisNode, startRedisCluster, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../src/cluster-slots';
import { createRedisStore, shardChannel } from '../src/index';
import { hostPorts } from './helpers';

// On a Redis Cluster the L1 bus uses sharded Pub/Sub (SSUBSCRIBE / SPUBLISH, Redis ≥ 7): a message is
// copied to the shard of the channel's slot only, where PUBLISH copies it to every node over the
// cluster bus. Counted by the servers: `CLUSTER INFO`'s cluster-bus messages received per type.

const PREFIX = 'shard:';
const LEASE_MS = 300;
const CHANNEL = shardChannel(PREFIX);

/** One `CLUSTER INFO` counter of `node` (a type of cluster-bus message is listed once one was sent or received). */
async function clusterCounter(node: RedisNode, name: string): Promise<number> {
  const text = String(await node.command('CLUSTER', 'INFO'));
  return Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

/** Calls of `command` on `node` (`INFO commandstats`). */
async function calls(node: RedisNode, command: string): Promise<number> {
  const text = String(await node.command('INFO', 'commandstats'));
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

/** What every master counted: copies of classic and sharded Pub/Sub messages it received over the cluster bus, and its PUBLISH / SPUBLISH calls. */
const counters = (masters: readonly RedisNode[]) =>
  Promise.all(
    masters.map(async (node) => ({
      publishReceived: await clusterCounter(node, 'cluster_stats_messages_publish_received'),
      shardReceived: await clusterCounter(node, 'cluster_stats_messages_publishshard_received'),
      publish: await calls(node, 'publish'),
      spublish: await calls(node, 'spublish'),
    })),
  );

/** The master serving the channel's slot now. */
async function channelMaster(cluster: RedisCluster): Promise<RedisNode> {
  const slot = keySlot(CHANNEL);
  const rows = await cluster.topology();
  const row = rows.find(
    (r) =>
      r.flags.includes('master') &&
      !r.flags.includes('fail') &&
      r.slots.some((range) => {
        const [from, to = from] = range.split('-').map(Number) as [number, number?];
        return slot >= from && slot <= (to as number);
      }),
  );
  const node = cluster.nodes.find((n) => n.port === row?.port);
  if (node === undefined) throw new Error(`no master serves slot ${slot}`);
  return node;
}

describe('the L1 bus on a Redis Cluster (3 masters, a replica each)', () => {
  let cluster: RedisCluster;
  const caches: Cache[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    // The bus's URL names a master that does not serve the channel: the bus must move to the one that does.
    const owner = await channelMaster(cluster);
    const seed = (await cluster.masters()).find((node) => node.port !== owner.port) as RedisNode;
    for (let i = 0; i < 3; i++)
      caches.push(
        new Cache({
          store: createRedisStore({ clusterNodes: hostPorts(cluster.startupNodes) }),
          prefix: PREFIX,
          l1: { invalidation: 'bus', busUrl: `redis://${seed.address}`, lease: LEASE_MS },
        }),
      );
    await Promise.all(caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await cluster?.stop();
  });

  /** A write by the first instance reaches the two others' L1s; a barrier completes. */
  const writeReachesEveryInstance = async (key: string) => {
    const [writer, ...readers] = caches as [Cache, ...Cache[]];
    await writer.set(key, 1);
    for (const reader of readers) expect(await reader.get(key)).toBe(1);
    await writer.set(key, 2);
    for (const reader of readers) await waitFor(async () => (await reader.get(key)) === 2, { timeoutMs: 5000 });
    await writer.invalidateTags(['t']);
    const fleet = (await writer.describeL1())?.fleet;
    expect(fleet?.lastBarrier).toMatchObject({ instances: 2, acknowledged: 2, outcome: 'ok' });
  };

  it('subscribes on the master of its channel alone, and a message is copied to no other master', async () => {
    const masters = await cluster.masters();
    const owner = await channelMaster(cluster);
    const subscribers = await Promise.all(
      masters.map(async (node) => ((await node.command('PUBSUB', 'SHARDNUMSUB', CHANNEL)) as unknown[])[1]),
    );
    expect(subscribers).toEqual(masters.map((node) => (node.port === owner.port ? 3 : 0)));
    // The fleet's leases and registry are on the same shard (the channel's hash tag).
    const fleetKeys = (await owner.command('KEYS', '*__larder:fleet:*')) as string[];
    expect(fleetKeys.length).toBeGreaterThanOrEqual(4);

    const before = await counters(masters);
    for (const key of ['a', 'b', 'c', 'd']) await writeReachesEveryInstance(key);
    const after = await counters(masters);
    masters.forEach((node, i) => {
      const [was, now] = [before[i], after[i]] as [(typeof before)[0], (typeof before)[0]];
      expect(now.publish - was.publish).toBe(0);
      expect(now.publishReceived - was.publishReceived).toBe(0);
      expect(now.shardReceived - was.shardReceived).toBe(0);
      if (node.port === owner.port) expect(now.spublish - was.spublish).toBeGreaterThan(8);
      else expect(now.spublish - was.spublish).toBe(0);
    });

    // The control: a classic PUBLISH on the same master is copied to both other masters.
    await owner.command('PUBLISH', 'control', 'x');
    await waitFor(async () => {
      const copied = await counters(masters);
      return masters.every(
        (node, i) =>
          node.port === owner.port || (copied[i]?.publishReceived as number) > (after[i]?.publishReceived as number),
      );
    });
  }, 30_000);

  it("follows the channel's slot when its master fails: the promoted replica carries the bus", async () => {
    const owner = await channelMaster(cluster);
    const { promoted } = await cluster.killMaster(owner);
    await Promise.all(caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
    expect(((await promoted.command('PUBSUB', 'SHARDNUMSUB', CHANNEL)) as unknown[])[1]).toBe(3);
    await writeReachesEveryInstance('after-failover');
  }, 60_000);
});
