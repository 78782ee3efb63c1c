import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { runRedisConformance } from './helpers';

describe('redis conformance: single node', () => {
  let server: RedisServer;
  let store: RedisStore;
  beforeAll(async () => {
    server = await startRedis();
    // A 1 MiB value limit (the default is Redis's 512 MiB) lets the suite's size tests run.
    store = createRedisStore({ url: server.url, maxValueBytes: 1024 * 1024 });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  runRedisConformance('redis (single node)', () => store);
});
