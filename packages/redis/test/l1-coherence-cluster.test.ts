import { type RedisCluster, startRedisCluster } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkInstances, type Instance, report, runWrites } from './coherence/harness';
import { hostPorts } from './helpers';

describe('L1 coherence across processes: Redis Cluster (tracking per node)', () => {
  let cluster: RedisCluster;
  let instances: Instance[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    instances = await forkInstances({
      driver: 'redis',
      prefix: 'cohc:',
      redis: { clusterNodes: hostPorts(cluster.startupNodes) },
      l1: { invalidation: 'tracking' },
    });
  }, 40_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await cluster?.stop();
  });

  it('keys on every master: a write is seen by the other process, never stale', async () => {
    const [writer, reader] = instances as [Instance, Instance];
    const all = { delays: [] as number[], stale: 0, unseen: 0 };
    // Keys spread over the slots (and so the masters).
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const result = await runWrites(writer, reader, key, 6);
      all.delays.push(...result.delays);
      all.stale += result.stale;
      all.unseen += result.unseen;
    }
    all.delays.sort((x, y) => x - y);
    report('Redis Cluster, 3 masters + 3 replicas (tracking on each node)', all);
    expect(all.stale).toBe(0);
    expect(all.unseen).toBe(0);
  }, 40_000);
});
