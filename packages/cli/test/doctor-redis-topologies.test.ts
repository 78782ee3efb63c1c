import { type RedisCluster, type RedisReplicaSet, startRedisCluster, startRedisReplicaSet } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { larder } from './helpers';

// doctor's Redis topology lines for the Sentinel and Cluster modes, against real servers.
describe('larder doctor on Redis Sentinel and Cluster', () => {
  let sentinel: RedisReplicaSet;
  let cluster: RedisCluster;

  beforeAll(async () => {
    [sentinel, cluster] = await Promise.all([
      startRedisReplicaSet({ replicas: 1, sentinels: 1 }),
      startRedisCluster({ masters: 3, replicasPerMaster: 0 }),
    ]);
    await sentinel.waitForSync();
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([sentinel?.stop(), cluster?.stop()]);
  });

  it('reports the primary found through Sentinel and its replica', async () => {
    const { code, stdout, stderr } = await larder(['doctor'], {
      CACHE_DRIVER: 'redis',
      REDIS_SENTINELS: sentinel.sentinelAddresses,
      REDIS_SENTINEL_NAME: sentinel.masterName,
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/mode sentinel, role master, 1 replica\(s\): 127\.0\.0\.1:\d+ \(online\)/);
    expect(stdout).toContain('set/get/delete ok');
  });

  it('reports the cluster primaries and slot coverage', async () => {
    const { code, stdout, stderr } = await larder(['doctor'], {
      CACHE_DRIVER: 'redis',
      REDIS_CLUSTER_NODES: cluster.startupNodes,
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/mode cluster, 3 primaries, 0 replicas, 16384\/16384 slots covered in 3 ranges/);
    expect(stdout).toContain('set/get/delete ok');
  });
});
