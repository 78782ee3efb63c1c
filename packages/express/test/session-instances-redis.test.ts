import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe } from 'vitest';
import { forkInstances, type Instances, instanceScenarios } from './session-instances';

describe('sessions across two app processes on Redis', () => {
  let server: RedisServer;
  let instances: Instances;
  beforeAll(async () => {
    server = await startRedis();
    instances = await forkInstances({ driver: 'redis', prefix: `inst-${process.pid}:`, redisUrl: server.url });
  }, 30_000);
  afterAll(async () => {
    await instances?.stop();
    await server?.stop();
  });
  instanceScenarios(() => instances);
});
