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
    // 10 s per command: the chunked group's 50 concurrent writers of 1.2 MB (60 MB through one
    // connection) passed the default 2 s on a loaded CI runner; a healthy server answers the rest at once.
    store = createRedisStore({ url: server.url, maxValueBytes: 1024 * 1024, commandTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  runRedisConformance('redis (single node)', () => store);
});
