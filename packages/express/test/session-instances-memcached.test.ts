import { type MemcachedCluster, startMemcached } from '@larder/dev-services';
import { afterAll, beforeAll, describe } from 'vitest';
import { forkInstances, type Instances, instanceScenarios } from './session-instances';

describe('sessions across two app processes on memcached (2 nodes)', () => {
  let cluster: MemcachedCluster;
  let instances: Instances;
  beforeAll(async () => {
    cluster = await startMemcached({ count: 2 });
    instances = await forkInstances({
      driver: 'memcached',
      prefix: `inst-${process.pid}:`,
      memcachedServers: cluster.nodes.map((node) => node.address),
    });
  }, 30_000);
  afterAll(async () => {
    await instances?.stop();
    await cluster?.stop();
  });
  instanceScenarios(() => instances);
});
