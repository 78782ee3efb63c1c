import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { TopologyTraceEvent } from '@larder/core/driver';
import { type ElastiCacheEmulator, type MemcachedCluster, startElastiCacheEmulator } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { memcached, waitFor } from './helpers';

describe('larder.topology from the memcached driver', () => {
  let cluster: MemcachedCluster;
  let emulator: ElastiCacheEmulator;
  let store: MemcachedStore | undefined;
  const seen: TopologyTraceEvent[] = [];
  const listener = (message: unknown) => seen.push(message as TopologyTraceEvent);
  const entry = (i: number) => ({
    host: `node${i}.cache.local`,
    ip: cluster.nodes[i]!.host,
    port: cluster.nodes[i]!.port,
  });

  beforeAll(async () => {
    cluster = await memcached(3);
    subscribe('larder.topology', listener);
  });
  afterAll(async () => {
    unsubscribe('larder.topology', listener);
    await store?.close();
    await emulator?.stop();
    await cluster?.stop();
  });

  it('publishes each discovery with its version and the nodes it added and removed', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [0, 1].map(entry), version: 1 });
    store = await createMemcachedStore({ configEndpoint: emulator.endpoint, discoveryInterval: 100 });
    store.storeName = 'sessions';
    const first = (i: number) => `${entry(i).host}:${entry(i).port}`;
    expect(seen).toEqual([
      { store: 'memcached', driver: 'memcached', event: 'discovery', version: 1 },
      { store: 'memcached', driver: 'memcached', event: 'node-added', node: first(0) },
      { store: 'memcached', driver: 'memcached', event: 'node-added', node: first(1) },
    ]);
    seen.length = 0;
    emulator.setNodes([1, 2].map(entry));
    await waitFor(() => seen.some((event) => event.event === 'node-removed'), { timeoutMs: 5000 });
    expect(seen).toEqual([
      { store: 'sessions', driver: 'memcached', event: 'discovery', version: 2 },
      { store: 'sessions', driver: 'memcached', event: 'node-added', node: first(2) },
      { store: 'sessions', driver: 'memcached', event: 'node-removed', node: first(0) },
    ]);
  });

  it('publishes the ejections and readmissions the store reports', async () => {
    const s = store!;
    seen.length = 0;
    // Topology emits these on the store's events when a node fails repeatedly / answers a probe (ejection.test.ts).
    s.events.emit('nodeEjected', '127.0.0.1:1');
    s.events.emit('nodeReadmitted', '127.0.0.1:1');
    expect(seen).toEqual([
      { store: 'sessions', driver: 'memcached', event: 'node-ejected', node: '127.0.0.1:1' },
      { store: 'sessions', driver: 'memcached', event: 'node-readmitted', node: '127.0.0.1:1' },
    ]);
  });
});
