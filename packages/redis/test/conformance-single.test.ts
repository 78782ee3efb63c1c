import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { runConformanceSuite } from '@larder/test-suite';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';

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
  runConformanceSuite({
    name: 'redis (single node)',
    createCache: (prefix, overrides) => new Cache({ store, prefix, ...overrides }),
    describe,
    it,
    beforeAll,
    afterAll,
    // Expiry tests at 500 ms TTLs: on a loaded 2-core CI box a few round trips can take longer than 200 ms.
    timing: { ttlPrecisionMs: 250 },
  });
});
