import { Cache } from '@larder/core';
import { type ElastiCacheEmulator, type MemcachedCluster, startElastiCacheEmulator } from '@larder/dev-services';
import { runConformanceSuite } from '@larder/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { memcached } from './helpers';

describe('memcached conformance: 3 nodes found through the ElastiCache emulator', () => {
  let cluster: MemcachedCluster;
  let emulator: ElastiCacheEmulator;
  let store: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(3);
    emulator = await startElastiCacheEmulator({
      nodes: cluster.nodes.map((node) => ({ host: 'localhost', ip: node.host, port: node.port })),
    });
    // 5 s per call: the chunked group's 50 concurrent writers of 1.2 MB passed the default 1 s on a
    // loaded CI runner (and the timeouts ejected a node for the next test).
    store = await createMemcachedStore({ configEndpoint: emulator.endpoint, timeout: '5s' });
  });
  afterAll(async () => {
    await store?.close();
    await emulator?.stop();
    await cluster?.stop();
  });

  it('discovered the three nodes', () => {
    expect(store.nodeIds()).toHaveLength(3);
  });

  runConformanceSuite({
    name: 'memcached (ElastiCache discovery, 3 nodes)',
    createCache: (prefix, overrides) => new Cache({ store, prefix, ...overrides }),
    describe,
    it,
    beforeAll,
    afterAll,
    // memcached README "Counters": its binary protocol cannot report an item's remaining TTL.
    limits: { counterExpiry: 'a negative delta or value is a read-modify-write that gives the counter the call TTL' },
    skip: {
      clear: 'memcached cannot enumerate or delete keys by prefix (capability clear=false)',
      enumerate: 'memcached cannot list keys (capability enumerate=false)',
    },
    // memcached's clock is a counter its timer advances once a second; a server starved of CPU
    // (CI's busy runs) ticks late, and an item written then expires up to that lag more than 1 s
    // early (a 2 s TTL was seen gone after 905 ms). At a precision P the scenarios write a TTL of
    // 2P, sent as whole seconds rounded up, and accept an expiry from P - 25 ms on: 1750 allows the
    // clock 1,275 ms of lag (3.5 s sent as 4 s, gone after 3 s at the earliest on time). 1250 allowed
    // 775 ms, and a run on 2026-11-28 saw 2.5 s (sent as 3 s) gone after 1,187 ms.
    timing: { ttlPrecisionMs: 1750 },
  });
});
