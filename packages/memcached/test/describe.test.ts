import {
  type ElastiCacheEmulator,
  findFreePort,
  type MemcachedCluster,
  startElastiCacheEmulator,
} from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore } from '../src';
import { memcached, waitFor } from './helpers';

// describe() on real memcached: a static list, ElastiCache discovery (emulator), an ejected node.
describe('MemcachedStore.describe()', () => {
  let cluster: MemcachedCluster;
  let emulator: ElastiCacheEmulator;

  beforeAll(async () => {
    cluster = await memcached(3);
    emulator = await startElastiCacheEmulator({
      nodes: cluster.nodes.map((n, i) => ({ host: `node${i}.cache.local`, ip: n.host, port: n.port })),
      version: 7,
    });
  });
  afterAll(async () => {
    await Promise.allSettled([emulator?.stop(), cluster?.stop()]);
  });

  it('a static list: every node up with its ring share, the shares summing to 1', async () => {
    const store = await createMemcachedStore({ servers: cluster.nodes.map((n) => n.address) });
    try {
      const description = await store.describe();
      expect(description.driver).toBe('memcached');
      expect(description.topology.mode).toBe('static');
      expect(description.discovery).toBeUndefined();
      expect(description.topology.nodes.map((n) => n.address)).toEqual(cluster.nodes.map((n) => n.address));
      for (const node of description.topology.nodes) {
        expect(node).toMatchObject({ role: 'node', status: 'up' });
        expect(node.share).toBeGreaterThan(0.2);
      }
      expect(description.topology.nodes.reduce((sum, n) => sum + (n.share ?? 0), 0)).toBeCloseTo(1, 10);
    } finally {
      await store.close();
    }
  });

  it('discovery: the configuration endpoint, the config version in use and the last poll', async () => {
    const before = Date.now();
    const store = await createMemcachedStore({ configEndpoint: emulator.endpoint, discoveryInterval: 200 });
    try {
      const description = await store.describe();
      expect(description.topology.mode).toBe('discovery');
      const [endpoint, ...nodes] = description.topology.nodes;
      expect(endpoint).toEqual({ address: emulator.endpoint, role: 'config-endpoint', status: 'up' });
      expect(nodes.map((n) => n.address).sort()).toEqual(
        cluster.nodes.map((n, i) => `node${i}.cache.local:${n.port}`).sort(),
      );
      expect(description.discovery).toMatchObject({ endpoint: emulator.endpoint, version: 7, ok: true });
      expect(description.discovery?.lastPollAt).toBeGreaterThanOrEqual(before);
      // A new config version shows once the poller applied it.
      emulator.setNodes(
        cluster.nodes.slice(0, 2).map((n, i) => ({ host: `node${i}.cache.local`, ip: n.host, port: n.port })),
        8,
      );
      await waitFor(async () => (await store.describe()).discovery?.version === 8, { timeoutMs: 5000 });
      expect((await store.describe()).topology.nodes).toHaveLength(3);
    } finally {
      await store.close();
      emulator.setNodes(
        cluster.nodes.map((n, i) => ({ host: `node${i}.cache.local`, ip: n.host, port: n.port })),
        9,
      );
    }
  });

  it('an ejected node shows as ejected with no share, the others share the ring', async () => {
    const dead = `127.0.0.1:${await findFreePort()}`;
    const servers = [cluster.nodes[0]!.address, dead];
    const store = await createMemcachedStore({ servers, ejectAfterFailures: 1, retries: 0, timeout: 500 });
    try {
      // Keys spread over both nodes: some land on the dead one and eject it.
      await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.get(`k${i}`)));
      await waitFor(async () => (await store.describe()).topology.nodes.some((n) => n.status === 'ejected'), {
        timeoutMs: 5000,
      });
      const nodes = (await store.describe()).topology.nodes;
      expect(nodes.find((n) => n.address === dead)).toMatchObject({ status: 'ejected', share: 0 });
      expect(nodes.find((n) => n.address === servers[0])).toMatchObject({ status: 'up', share: 1 });
    } finally {
      await store.close();
    }
  });

  it('a node that refuses is down, even the last one, which the ring keeps (it was shown up)', async () => {
    const dead = `127.0.0.1:${await findFreePort()}`;
    const store = await createMemcachedStore({ servers: [dead], retries: 0, timeout: 500 });
    try {
      await expect(store.get('k')).rejects.toThrow(`nothing is listening at ${dead} (connection refused)`);
      const [node] = (await store.describe()).topology.nodes;
      expect(node).toMatchObject({ address: dead, status: 'down', share: 1 });
    } finally {
      await store.close();
    }
  });
});
