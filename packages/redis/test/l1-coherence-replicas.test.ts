import { type RedisReplicaSet, startRedisReplicaSet, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkInstances, type Instance, report, runWrites } from './coherence/harness';
import { hostPorts } from './helpers';

describe('L1 coherence across processes: primary + 2 replicas (reads from replicas), then Sentinel failover', () => {
  let set: RedisReplicaSet;
  let replicaReaders: Instance[] = [];
  let sentinelInstances: Instance[] = [];

  beforeAll(async () => {
    set = await startRedisReplicaSet({ replicas: 2, sentinels: 1 });
    replicaReaders = await forkInstances({
      driver: 'redis',
      prefix: 'cohr:',
      redis: { url: set.primary.url, replicaUrls: set.replicaUrls.split(','), readFrom: 'replica' },
      // Tracked on the primary and on both replicas: a read is current once every node invalidated the key.
      arrivalsNeeded: 3,
      l1: { invalidation: 'tracking' },
    });
  }, 40_000);
  afterAll(async () => {
    await Promise.all([...replicaReaders, ...sentinelInstances].map((instance) => instance.stop()));
    await set?.stop();
  });

  it('replica reads: never an older value once every node invalidated the key', async () => {
    const [writer, reader] = replicaReaders as [Instance, Instance];
    const result = await runWrites(writer, reader, 'k', 30);
    report('primary + 2 replicas, reads from replicas (tracking on each)', result);
    expect(result.stale).toBe(0);
    expect(result.unseen).toBe(0);
  }, 30_000);

  it('Sentinel: a failover during the writes flushes the L1s; no stale read, writes seen again after', async () => {
    await Promise.all(replicaReaders.map((instance) => instance.stop()));
    replicaReaders = [];
    sentinelInstances = await forkInstances({
      driver: 'redis',
      prefix: 'cohs:',
      redis: { sentinels: hostPorts(set.sentinelAddresses), sentinelName: set.masterName },
      l1: { invalidation: 'tracking' },
    });
    const [writer, reader] = sentinelInstances as [Instance, Instance];
    const result = await runWrites(writer, reader, 'k', 12, {
      timeoutMs: 15_000,
      during: async (round) => {
        if (round === 4) await set.killPrimary(15_000);
      },
    });
    report('Sentinel, primary killed after 4 writes (failover)', result);
    expect(result.stale).toBe(0);
    expect(result.unseen).toBe(0);
    // Tracking re-established on the new primary: the reader's L1 is up and answering again.
    await waitFor(async () => ((await reader.call({ op: 'state' })).value as { state: string }).state === 'up', {
      timeoutMs: 15_000,
    });
    const after = await runWrites(writer, reader, 'k', 5, { start: 100 });
    expect(after.stale).toBe(0);
    expect(after.unseen).toBe(0);
  }, 44_000);
});
