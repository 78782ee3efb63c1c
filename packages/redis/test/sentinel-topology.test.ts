import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { TopologyTraceEvent } from '@larder/core/driver';
import { findFreePort, type RedisReplicaSet, startRedisReplicaSet, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { hostPorts } from './helpers';

describe('redis: Sentinel failover on larder.topology', () => {
  let set: RedisReplicaSet;
  let store: RedisStore | undefined;
  const seen: TopologyTraceEvent[] = [];
  const listener = (message: unknown) => seen.push(message as TopologyTraceEvent);

  beforeAll(async () => {
    set = await startRedisReplicaSet({ replicas: 1, sentinels: 1 });
    subscribe('larder.topology', listener);
  });
  afterAll(async () => {
    unsubscribe('larder.topology', listener);
    await store?.close();
    await set?.stop();
  });

  it('describe() lists each Sentinel with its real state: one answering, one refusing', async () => {
    const refused = { host: '127.0.0.1', port: await findFreePort() };
    const probe = createRedisStore({
      sentinels: [...hostPorts(set.sentinelAddresses), refused],
      sentinelName: set.masterName,
    });
    try {
      await probe.set('probe', '1', undefined);
      const { topology } = await probe.describe();
      expect(topology.mode).toBe('sentinel');
      expect(topology.nodes.filter((node) => node.role === 'sentinel')).toEqual([
        { address: set.sentinelAddresses, role: 'sentinel', status: 'up' },
        { address: `127.0.0.1:${refused.port}`, role: 'sentinel', status: 'down' },
      ]);
      expect(topology.nodes[0]).toMatchObject({
        address: `127.0.0.1:${set.primary.port}`,
        role: 'primary',
        status: 'up',
      });
    } finally {
      await probe.close();
    }
  });

  it('publishes failover with the new primary once the store is connected to it', async () => {
    store = createRedisStore({ sentinels: hostPorts(set.sentinelAddresses), sentinelName: set.masterName });
    store.storeName = 'main';
    await store.set('before', '1', undefined);
    await set.waitForSync();
    const { primary } = await set.killPrimary(20_000);
    await waitFor(() => store!.set('after', '1', undefined).then(() => true), { timeoutMs: 20_000 });
    await waitFor(() => seen.some((event) => event.event === 'failover'), { timeoutMs: 10_000 });
    const failover = seen.find((event) => event.event === 'failover');
    expect(failover).toEqual({ store: 'main', driver: 'redis', event: 'failover', node: expect.any(String) });
    expect(failover?.node?.endsWith(`:${primary.port}`)).toBe(true);
  });
});
