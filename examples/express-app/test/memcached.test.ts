import {
  type ElastiCacheEmulator,
  type MemcachedCluster,
  startElastiCacheEmulator,
  startMemcached,
} from '@larder/dev-services';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instance, scenario, startInstance } from './helpers';

describe('example app on memcached behind the ElastiCache emulator', () => {
  let memcached: MemcachedCluster;
  let emulator: ElastiCacheEmulator;
  const instances: Instance[] = [];

  beforeAll(async () => {
    memcached = await startMemcached({ count: 3 });
    emulator = await startElastiCacheEmulator({
      nodes: memcached.nodes.map((n) => ({ host: 'localhost', ip: n.host, port: n.port })),
    });
  });
  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await Promise.allSettled([emulator?.stop(), memcached?.stop()]);
  });

  it('two instances discover the nodes and share cache and sessions', async () => {
    const env = { CACHE_DRIVER: 'memcached', MEMCACHED_CONFIG_ENDPOINT: emulator.endpoint };
    const a = await startInstance(env);
    instances.push(a);
    const b = await startInstance(env);
    instances.push(b);
    await scenario(a, b);
    const health = await request(a.url).get('/healthz').expect(200);
    expect(health.body.sessions).toMatchObject({ store: 'memcached', driver: 'memcached', ok: true });
    expect(emulator.requests).toBeGreaterThanOrEqual(2);
  });
});
