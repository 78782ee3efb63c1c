import {
  type RedisCluster,
  type RedisReplicaSet,
  type RedisServer,
  startRedis,
  startRedisCluster,
  startRedisReplicaSet,
} from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

const PASSWORD = 'describe-s3cret';

// describe() against real servers: one node, a primary with replicas, a 3-primary Cluster.
describe('RedisStore.describe()', () => {
  let single: RedisServer;
  let set: RedisReplicaSet;
  let cluster: RedisCluster;

  beforeAll(async () => {
    [single, set, cluster] = await Promise.all([
      startRedis({ password: PASSWORD }),
      startRedisReplicaSet({ replicas: 2, sentinels: 0, password: PASSWORD }),
      startRedisCluster({ masters: 3, replicasPerMaster: 0 }),
    ]);
    await set.waitForSync();
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled([single?.stop(), set?.stop(), cluster?.stop()]);
  });

  it('a single node is one primary, up, and the data holds no password', async () => {
    const store = createRedisStore({ url: single.url });
    try {
      const description = await store.describe();
      expect(description).toEqual({
        driver: 'redis',
        topology: { mode: 'single', nodes: [{ address: `127.0.0.1:${single.port}`, role: 'primary', status: 'up' }] },
      });
      expect(JSON.stringify(description)).not.toContain(PASSWORD);
    } finally {
      await store.close();
    }
  });

  it('a primary with replicas lists the replicas it sees (state, lag) and the replica clients read from', async () => {
    const store = createRedisStore({
      url: set.primary.url,
      replicaUrls: set.replicaUrls.split(','),
      readFrom: 'replica',
    });
    try {
      // The replica clients connect in the background: a write and a read make sure they are up.
      await store.set('describe:k', 'v', 10_000);
      const description = await store.describe();
      expect(description.topology.mode).toBe('replicas');
      const [primary, ...seen] = description.topology.nodes;
      expect(primary).toEqual({ address: `127.0.0.1:${set.primary.port}`, role: 'primary', status: 'up' });
      expect(seen.map((node) => node.address).sort()).toEqual(set.replicas.map((r) => `127.0.0.1:${r.port}`).sort());
      for (const node of seen) {
        expect(node).toMatchObject({ role: 'replica', status: 'up', state: 'online' });
        expect(node.lagSeconds).toBeGreaterThanOrEqual(0);
      }
      expect(description.replicas?.map((r) => r.address).sort()).toEqual(
        set.replicas.map((r) => `127.0.0.1:${r.port}`).sort(),
      );
      expect(JSON.stringify(description)).not.toContain(PASSWORD);
    } finally {
      await store.close();
    }
  });

  it('a Cluster lists its primaries with their slot shares and the coverage', async () => {
    const store = createRedisStore({
      clusterNodes: cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    });
    try {
      await store.set('describe:k', 'v', 10_000);
      const description = await store.describe();
      expect(description.topology.mode).toBe('cluster');
      expect(description.topology.slots).toEqual({ covered: 16384, ranges: 3 });
      const nodes = description.topology.nodes;
      expect(nodes.map((n) => n.address).sort()).toEqual(cluster.nodes.map((n) => `127.0.0.1:${n.port}`).sort());
      expect(nodes.every((n) => n.role === 'primary' && n.status === 'up')).toBe(true);
      expect(nodes.reduce((sum, n) => sum + (n.share ?? 0), 0)).toBeCloseTo(1, 10);
    } finally {
      await store.close();
    }
  });

  it('rejects with a scrubbed BackendError when the primary does not answer', async () => {
    const down = await startRedis({ password: PASSWORD });
    await down.stop();
    const store = createRedisStore({ url: down.url, connectTimeoutMs: 500, commandTimeoutMs: 500 });
    try {
      const error = await Promise.resolve(store.describe()).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).toMatch(/BackendError|TimeoutError/);
      expect(String(error?.message)).not.toContain(PASSWORD);
    } finally {
      await store.close();
    }
  });
});
