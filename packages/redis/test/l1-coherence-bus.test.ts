import {
  type DynamoDbLocal,
  type MemcachedCluster,
  type RedisServer,
  startDynamoDbLocal,
  startMemcached,
  startRedis,
  waitFor,
} from '@larder/dev-services';
import { createTables } from '@larder/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkInstances, type Instance, report, runWrites } from './coherence/harness';

const upAgain = (instance: Instance) =>
  waitFor(async () => ((await instance.call({ op: 'state' })).value as { state: string }).state === 'up', {
    timeoutMs: 10_000,
  });

describe('L1 coherence across processes over the bus (Redis Pub/Sub)', () => {
  let bus: RedisServer;

  beforeAll(async () => {
    bus = await startRedis();
  });
  afterAll(async () => {
    await bus?.stop();
  });

  describe('memcached (3 nodes) + bus', () => {
    let memcached: MemcachedCluster;
    let instances: Instance[] = [];
    beforeAll(async () => {
      memcached = await startMemcached({ count: 3 });
      instances = await forkInstances({
        driver: 'memcached',
        prefix: 'cohm:',
        memcachedServers: memcached.servers.split(','),
        l1: { invalidation: 'bus', busUrl: bus.url },
      });
    }, 30_000);
    afterAll(async () => {
      await Promise.all(instances.map((instance) => instance.stop()));
      await memcached?.stop();
    });

    it('a write in one process reaches the other; never stale', async () => {
      const [writer, reader] = instances as [Instance, Instance];
      const result = await runWrites(writer, reader, 'k', 40);
      report('memcached + bus', result);
      expect(result.stale).toBe(0);
      expect(result.unseen).toBe(0);
      const state = (await reader.call({ op: 'state' })).value as { hits: number; invalidation: string };
      expect(state.invalidation).toBe('bus');
      expect(state.hits).toBeGreaterThan(0);
    }, 30_000);

    it('bus unreachable: L1s flushed and bypassed (still coherent), back when the bus is', async () => {
      const [writer, reader] = instances as [Instance, Instance];
      await bus.kill();
      await waitFor(async () => ((await reader.call({ op: 'state' })).value as { state: string }).state === 'down');
      const down = await runWrites(writer, reader, 'k', 5, { start: 1000 });
      expect(down.stale).toBe(0);
      expect(down.unseen).toBe(0);
      await bus.restart();
      await upAgain(reader);
      await upAgain(writer);
      const back = await runWrites(writer, reader, 'k', 5, { start: 2000 });
      expect(back.stale).toBe(0);
      expect(back.unseen).toBe(0);
    }, 30_000);
  });

  describe('DynamoDB Local + bus', () => {
    let dynamo: DynamoDbLocal;
    let instances: Instance[] = [];
    beforeAll(async () => {
      dynamo = await startDynamoDbLocal();
      const { endpoint, region, credentials } = dynamo;
      await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
      instances = await forkInstances({
        driver: 'dynamodb',
        prefix: 'cohd:',
        dynamodb: { endpoint, region, credentials },
        l1: { invalidation: 'bus', busUrl: bus.url },
      });
    }, 60_000);
    afterAll(async () => {
      await Promise.all(instances.map((instance) => instance.stop()));
      await dynamo?.stop();
    });

    it('a write in one process is seen by the other; never stale', async () => {
      const [writer, reader] = instances as [Instance, Instance];
      const result = await runWrites(writer, reader, 'k', 20, { timeoutMs: 10_000 });
      report('DynamoDB Local + bus', result);
      expect(result.stale).toBe(0);
      expect(result.unseen).toBe(0);
    }, 40_000);
  });
});
