import { Cache } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';
import {
  type CountingProxy,
  type DynamoDbLocal,
  type MemcachedCluster,
  memcachedAsciiStats,
  type RedisServer,
  startCountingProxy,
  startDynamoDbLocal,
  startMemcached,
  startRedis,
  waitFor,
} from '@larder/dev-services';
import { createTables } from '@larder/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { larderBus } from '../src/index';
import { instanceStore } from './ipc-instance';

// With a bus, the L1 fleet's state lives on the bus's Redis (docs/architecture.md "The barrier"):
// a memcached or DynamoDB store sees no write from an idle instance.

const LEASE_MS = 300;
const COUNTED = ['cmd_get', 'cmd_set', 'cmd_touch', 'cas_misses', 'cas_hits', 'cas_badval'] as const;

/** Three L1 instances over stores that `open` makes, their invalidations and fleet state on the bus's Redis; resolves when every L1 is up. */
async function busFleet(bus: RedisServer, prefix: string, open: () => Promise<CacheStore>): Promise<Cache[]> {
  const caches: Cache[] = [];
  for (let i = 0; i < 3; i++) {
    const store = await open();
    (store as { invalidation?: CacheStore['invalidation'] }).invalidation = (_mode, options) => larderBus(options);
    caches.push(new Cache({ store, prefix, l1: { invalidation: 'bus', busUrl: bus.url, lease: LEASE_MS } }));
  }
  await Promise.all(caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
  return caches;
}

/** Waits until each of the three instances under `prefix` has renewed its lease on the bus's Redis twice. */
async function twoRenewals(bus: RedisServer, prefix: string): Promise<void> {
  const leases = async () => {
    const keys = (await bus.command('KEYS', `__larder:fleet:${prefix}lease:*`)) as string[];
    return keys.length === 0 ? [] : ((await bus.command('MGET', ...keys.sort())) as string[]);
  };
  let last = await leases();
  expect(last.length).toBe(3);
  let renewed = 0;
  await waitFor(async () => {
    const now = await leases();
    if (now.length === 3 && now.every((value, i) => value !== last[i])) {
      renewed++;
      last = now;
    }
    return renewed >= 2;
  });
}

describe('an L1 fleet on memcached with a bus', () => {
  let memcached: MemcachedCluster;
  let bus: RedisServer;
  const caches: Cache[] = [];

  /** memcached's command counters, over every node. */
  const counts = async () => {
    const all = await Promise.all(memcached.nodes.map((node) => memcachedAsciiStats(node)));
    return COUNTED.map((name) => all.reduce((sum, { stats }) => sum + Number(stats[name]), 0));
  };

  beforeAll(async () => {
    [memcached, bus] = await Promise.all([startMemcached({ count: 2 }), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all([memcached?.stop(), bus?.stop()]);
  });

  it('keeps its leases, registry and acknowledgements on the bus Redis: an idle instance writes nothing to memcached, and a barrier still waits for every instance', async () => {
    caches.push(
      ...(await busFleet(bus, 'fleet:', () =>
        instanceStore({ driver: 'memcached', memcachedServers: memcached.servers.split(',') }),
      )),
    );
    const before = await counts();
    // Every instance renews its lease twice on the bus's Redis meanwhile.
    await twoRenewals(bus, 'fleet:');
    expect(await counts()).toEqual(before);
    // A barrier: acknowledged by the two others on the bus's Redis, none of it in memcached.
    const [writer, reader] = caches as [Cache, Cache];
    await writer.set('k', 1);
    expect(await reader.get('k')).toBe(1);
    await writer.set('k', 2);
    const started = performance.now();
    await writer.syncL1();
    expect(performance.now() - started).toBeLessThan(LEASE_MS);
    expect(await reader.get('k')).toBe(2);
    expect(((await bus.command('KEYS', '__larder:fleet:fleet:ack:*')) as string[]).length).toBe(2);
    const fleet = (await writer.describeL1())?.fleet;
    expect(fleet).toMatchObject({ leaseHeld: true, stateIn: 'channel' });
    expect(fleet?.lastBarrier).toMatchObject({ instances: 2, acknowledged: 2, lapsed: 0, outcome: 'ok' });
  });
});

// DynamoDB Local keeps no request metrics (no CloudWatch), so its requests are counted at a proxy in
// front of it: what reaches the server, whichever client or retry sent it — closer to the server
// side than the SDK's middleware stack, which sees only the clients it is added to.
const DYNAMODB_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];

describe('an L1 fleet on DynamoDB Local with a bus', () => {
  let dynamo: DynamoDbLocal;
  let proxy: CountingProxy;
  let bus: RedisServer;
  const caches: Cache[] = [];

  beforeAll(async () => {
    [dynamo, bus] = await Promise.all([startDynamoDbLocal(), startRedis()]);
    const { endpoint, region, credentials } = dynamo;
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
    proxy = await startCountingProxy(endpoint);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await proxy?.close();
    await Promise.all([dynamo?.stop(), bus?.stop()]);
  });

  it('makes no DynamoDB write while idle over two lease renewals, and its renewals are on the bus Redis', async () => {
    const { region, credentials } = dynamo;
    caches.push(
      ...(await busFleet(bus, 'fleetd:', () =>
        instanceStore({ driver: 'dynamodb', dynamodb: { endpoint: proxy.endpoint, region, credentials } }),
      )),
    );
    // The instances do reach DynamoDB through the proxy (a write and a read here are counted).
    const [writer, reader] = caches as [Cache, Cache];
    await writer.set('k', 1);
    expect(await reader.get('k')).toBe(1);
    const writes = () => DYNAMODB_WRITES.reduce((sum, name) => sum + (proxy.counts.get(name) ?? 0), 0);
    expect(writes()).toBeGreaterThan(0);
    const before = new Map(proxy.counts);
    await twoRenewals(bus, 'fleetd:');
    // Nothing at all reached DynamoDB meanwhile: no write, and no read either.
    expect(new Map(proxy.counts)).toEqual(before);
    expect((await writer.describeL1())?.fleet).toMatchObject({ leaseHeld: true, stateIn: 'channel' });
  }, 60_000);
});
