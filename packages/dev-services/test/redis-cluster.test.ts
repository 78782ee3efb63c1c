import { afterAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from '../src/index';

describe('startRedisCluster', () => {
  let cluster: RedisCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('6 nodes, cluster_state ok, ports < 22000; CLUSTER FAILOVER and killing a master', async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    expect(cluster.nodes).toHaveLength(6);
    for (const node of cluster.nodes) expect(node.port).toBeLessThan(22_000);
    expect(await cluster.masters()).toHaveLength(3);
    expect(await cluster.replicas()).toHaveLength(3);
    const topology = await cluster.topology();
    expect(topology.filter((r) => r.flags.includes('master')).flatMap((r) => r.slots).length).toBeGreaterThan(0);

    const promoted = await cluster.failover();
    expect((await cluster.masters()).map((n) => n.port)).toContain(promoted.port);

    const { killed, promoted: replacement } = await cluster.killMaster();
    expect(killed.pid).toBeUndefined();
    expect(((await replacement.command('ROLE')) as unknown[])[0]).toBe('master');
    await killed.restart();
    await cluster.waitForClusterOk();
    expect(((await killed.command('ROLE')) as unknown[])[0]).toBe('slave');
  });
});
