import { Cache } from '@larder/core';
import {
  type DynamoDbLocal,
  freezeProcess,
  type MemcachedCluster,
  type RedisReplicaSet,
  type RedisServer,
  startDynamoDbLocal,
  startMemcached,
  startRedis,
  startRedisReplicaSet,
  waitFor,
} from '@larder/dev-services';
import { createDynamoDbStore, createTables } from '@larder/dynamodb';
import { createMemcachedStore } from '@larder/memcached';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { forkInstances, type Instance } from './barrier/harness';
import type { BarrierSpec } from './barrier/protocol';
import {
  overlappingLoader,
  randomizedHistory,
  recovers,
  softInvalidation,
  stoppedInstance,
  tagStateDeleted,
  tagStateDeletedUnannounced,
} from './barrier/scenarios';

// Hard invalidation across OS processes: the L1 barrier (lease + fence, docs/architecture.md "The barrier").
const LEASE_MS = 1000;
const lease = LEASE_MS;
// LARDER_BARRIER_MEASURE_MS=10000 runs longer histories (one invalidation per ~50 ms per instance) to measure latency.
const MEASURE_MS = Number(process.env.LARDER_BARRIER_MEASURE_MS ?? 0);
const history = (durationMs: number, invalidations: number) =>
  MEASURE_MS > 0
    ? { durationMs: MEASURE_MS, invalidations: Math.round(MEASURE_MS / 50) }
    : { durationMs, invalidations };
/** Three instances; the third's wall clock is 5 s ahead. */
const three = (spec: BarrierSpec): BarrierSpec[] => [spec, spec, { ...spec, skewMs: 5000 }];

/**
 * Stops the replica `pid` (SIGSTOP), starts `invalidation` and checks it has not resolved 300 ms
 * later (the one fixed wait: what must not happen while the replica is stopped), then resumes the
 * replica and awaits it.
 */
async function heldWhileStopped(pid: number, invalidation: () => Promise<unknown>): Promise<void> {
  await freezeProcess(pid);
  let resolved = false;
  let running: Promise<unknown> = Promise.resolve();
  try {
    running = invalidation().then(() => {
      resolved = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resolved).toBe(false);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await running;
}

describe('L1 barrier across processes: Redis single node, tracking', () => {
  let server: RedisServer;
  let instances: Instance[] = [];
  beforeAll(async () => {
    server = await startRedis();
    instances = await forkInstances(
      three({ driver: 'redis', prefix: 'bar:', redis: { url: server.url }, l1: { invalidation: 'tracking', lease } }),
    );
  }, 30_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await server?.stop();
  });

  it(
    'randomized history with hard invalidations from every instance: no stale read',
    async () => {
      await randomizedHistory('Redis tracking', instances, history(2500, 12));
    },
    20_000 + MEASURE_MS * 2,
  );

  it(
    'a stopped instance blocks the writer no longer than its lease and serves nothing stale when it resumes',
    async () => {
      const [writer, stopped] = instances as [Instance, Instance];
      await stoppedInstance(writer, stopped, LEASE_MS, 'invalidateTags');
      await recovers(writer, stopped, LEASE_MS);
      // Plain keys too: delete, then Cache.syncL1().
      await stoppedInstance(writer, stopped, LEASE_MS, 'invalidate');
    },
    20_000 + MEASURE_MS * 2,
  );

  it('soft invalidation, a loader overlapping a hard one, the tag state deleted in Redis', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    await softInvalidation(a, c);
    await overlappingLoader(b, c, [a]);
    await tagStateDeleted(a, [b, c], async (tagKey) => void (await server.command('DEL', tagKey)), 'bar:');
  }, 20_000);
});

describe('L1 barrier across processes: Redis primary + 2 replicas (reads from replicas), tracking', () => {
  let set: RedisReplicaSet;
  let instances: Instance[] = [];
  beforeAll(async () => {
    set = await startRedisReplicaSet({ replicas: 2 });
    const redis = { url: set.primary.url, replicaUrls: set.replicaUrls.split(','), readFrom: 'replica' };
    instances = await forkInstances(
      three({ driver: 'redis', prefix: 'barr:', redis, l1: { invalidation: 'tracking', lease } }),
    );
  }, 40_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await set?.stop();
  });

  it(
    'randomized history: an acknowledgement comes only once every node announced the fence; no stale read',
    async () => {
      await randomizedHistory('Redis replicas (tracking)', instances, history(2000, 10));
    },
    20_000 + MEASURE_MS * 2,
  );

  it('a stopped replica holds the barrier until it applied the invalidation; reads after it are fresh', async () => {
    const [writer, reader] = instances as [Instance, Instance];
    const key = 'lagging';
    await writer.call({ op: 'set', key, value: 'old' });
    await waitFor(async () => (await reader.call({ op: 'get', key })).value === 'old');
    // By PID: a replica this test started. It neither applies nor announces the invalidation while stopped.
    await heldWhileStopped(set.replicas[0]?.pid as number, () => writer.call({ op: 'invalidateTags', keys: [key] }));
    for (let i = 0; i < 4; i++) expect((await reader.call({ op: 'get', key })).value).toBe(null);
  }, 20_000);

  it("the writer's own reads: invalidateTags waits until every node it reads from applied it, even alone in its fleet", async () => {
    // A fleet of one (its own prefix): no other instance acknowledges, so only its own fence holds it.
    const cache = new Cache({
      store: createRedisStore({ url: set.primary.url, replicaUrls: set.replicaUrls.split(','), readFrom: 'replica' }),
      prefix: 'barr-alone:',
      l1: { invalidation: 'tracking', lease },
    });
    try {
      await waitFor(async () => (await cache.describeL1())?.state === 'up');
      await cache.tags(['t']).set('k', 'old', '10m');
      await waitFor(async () => (await cache.get('k')) === 'old');
      // Before the fix it resolved at once.
      await heldWhileStopped(set.replicas[1]?.pid as number, () => cache.invalidateTags(['t']));
      for (let i = 0; i < 8; i++) expect(await cache.get('k')).toBe(undefined);
    } finally {
      await cache.close();
    }
  }, 20_000);
});

describe('L1 barrier across processes: memcached + bus', () => {
  let bus: RedisServer;
  let memcached: MemcachedCluster;
  let instances: Instance[] = [];
  beforeAll(async () => {
    [bus, memcached] = await Promise.all([startRedis(), startMemcached({ count: 1 })]);
    instances = await forkInstances(
      three({
        driver: 'memcached',
        prefix: 'barm:',
        memcachedServers: memcached.servers.split(','),
        l1: { invalidation: 'bus', busUrl: bus.url, lease },
      }),
    );
  }, 30_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await Promise.all([memcached?.stop(), bus?.stop()]);
  });

  it(
    'randomized history with hard invalidations from every instance: no stale read',
    async () => {
      await randomizedHistory('memcached + bus', instances, history(2500, 12));
    },
    20_000 + MEASURE_MS * 2,
  );

  it(
    'a stopped instance blocks the writer no longer than its lease and serves nothing stale when it resumes',
    async () => {
      const [writer, stopped] = instances as [Instance, Instance];
      await stoppedInstance(writer, stopped, LEASE_MS, 'invalidateTags');
      await recovers(writer, stopped, LEASE_MS);
      // Plain keys too: delete, then Cache.syncL1().
      await stoppedInstance(writer, stopped, LEASE_MS, 'invalidate');
    },
    20_000 + MEASURE_MS * 2,
  );

  it('soft invalidation, a loader overlapping a hard one, the tag state deleted in memcached', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    await softInvalidation(a, c);
    await overlappingLoader(b, c, [a]);
    const store = await createMemcachedStore({ servers: memcached.servers.split(',') });
    try {
      await tagStateDeletedUnannounced(a, [b, c], (tagKey) => store.delete(tagKey).then(() => undefined), 'barm:');
    } finally {
      await store.close?.();
    }
  }, 20_000);
});

describe('L1 barrier across processes: DynamoDB Local + bus', () => {
  let bus: RedisServer;
  let dynamo: DynamoDbLocal;
  let instances: Instance[] = [];
  beforeAll(async () => {
    [bus, dynamo] = await Promise.all([startRedis(), startDynamoDbLocal()]);
    const { endpoint, region, credentials } = dynamo;
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
    instances = await forkInstances(
      three({
        driver: 'dynamodb',
        prefix: 'bard:',
        dynamodb: { endpoint, region, credentials },
        l1: { invalidation: 'bus', busUrl: bus.url, lease },
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await Promise.all([dynamo?.stop(), bus?.stop()]);
  });

  it(
    'randomized history with hard invalidations from every instance: no stale read; a stopped instance',
    async () => {
      await randomizedHistory('DynamoDB Local + bus', instances, history(3000, 6));
      const [writer, stopped] = instances as [Instance, Instance];
      await stoppedInstance(writer, stopped, LEASE_MS);
    },
    30_000 + MEASURE_MS * 2,
  );

  it('soft invalidation, a loader overlapping a hard one, the tag state deleted in DynamoDB', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    await softInvalidation(a, c);
    await overlappingLoader(b, c, [a]);
    const { endpoint, region, credentials } = dynamo;
    const store = createDynamoDbStore({ endpoint, region, credentials, timeout: '20s' });
    try {
      await tagStateDeletedUnannounced(c, [a, b], (tagKey) => store.delete(tagKey).then(() => undefined), 'bard:');
    } finally {
      await store.close?.();
    }
  }, 30_000);
});
