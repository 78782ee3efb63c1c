import {
  type ElastiCacheEmulator,
  type MemcachedCluster,
  startElastiCacheEmulator,
  startMemcached,
} from '@larder/dev-services';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePool, scenario } from './helpers';

describe('example app on memcached behind the ElastiCache emulator', () => {
  let memcached: MemcachedCluster;
  let emulator: ElastiCacheEmulator;
  const instances = instancePool();

  beforeAll(async () => {
    memcached = await startMemcached({ count: 3 });
    emulator = await startElastiCacheEmulator({
      nodes: memcached.nodes.map((n) => ({ host: 'localhost', ip: n.host, port: n.port })),
    });
  });
  afterAll(async () => {
    await instances.stopAll();
    await Promise.allSettled([emulator?.stop(), memcached?.stop()]);
  });

  it('two instances discover the nodes and share cache and sessions', async () => {
    const env = { CACHE_DRIVER: 'memcached', MEMCACHED_CONFIG_ENDPOINT: emulator.endpoint };
    const a = await instances.start(env);
    const b = await instances.start(env);
    await scenario(a, b);
    const health = await request(a.url).get('/healthz').expect(200);
    expect(health.body.sessions).toMatchObject({ store: 'memcached', driver: 'memcached', ok: true });
    expect(emulator.requests).toBeGreaterThanOrEqual(2);
  });
});
