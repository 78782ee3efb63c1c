import { afterAll, describe, expect, it } from 'vitest';
import { type RedisReplicaSet, startRedisReplicaSet } from '../src/index';

describe('startRedisReplicaSet', () => {
  let rs: RedisReplicaSet | undefined;
  afterAll(async () => {
    await rs?.stop();
  });

  it('primary + 2 replicas + 3 Sentinels; replicas sync; killPrimary fails over; the old primary rejoins', async () => {
    rs = await startRedisReplicaSet({ replicas: 2, sentinels: 3 });
    expect(rs.masterName).toBe('mymaster');
    expect(rs.replicas).toHaveLength(2);
    expect(rs.sentinels).toHaveLength(3);
    expect(rs.sentinelAddresses.split(',')).toHaveLength(3);
    for (const node of [...rs.nodes, ...rs.sentinels]) expect(node.port).toBeLessThan(32_768);
    await rs.primary.command('SET', 'k', 'v');
    await rs.waitForSync();
    const offsets = await Promise.all(rs.replicas.map((r) => r.info('replication')));
    for (const info of offsets) expect(info.master_link_status).toBe('up');
    expect(await rs.replicas[0]!.command('GET', 'k')).toBe('v');

    const { killed, primary } = await rs.killPrimary();
    expect(killed).toBe(rs.primary);
    expect(rs.replicas).toContain(primary);
    await rs.waitForPrimary(primary);
    expect(await primary.command('GET', 'k')).toBe('v');
    await rs.restartAsReplica(killed);
    await rs.waitForSync();
    expect((await killed.info('replication')).master_port).toBe(String(primary.port));
  });
});
