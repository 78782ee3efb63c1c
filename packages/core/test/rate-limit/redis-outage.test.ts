import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { afterAll, beforeAll, describe } from 'vitest';
import { Cache } from '../../src/cache/cache';
import { outageScenarios, TIMEOUT_MS } from './outage';

describe('rate limits with Redis down', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });
  outageScenarios(() => ({
    cache: () => new Cache({ store: createRedisStore({ url: server.url }), prefix: 'down:', timeout: TIMEOUT_MS }),
    pid: () => server.pid as number,
    kill: () => server.kill(),
    restart: () => server.restart(),
  }));
});
