import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { countingMemoryCache } from './helpers';

/** A backend the session tests run on: the memory driver, or a real redis-server started by the test file. */
export interface Backend {
  name: string;
  /** A fresh cache (own prefix) on this backend. */
  cache(): Cache;
}

/** The memory and Redis backends; call `start`/`stop` from the file's beforeAll/afterAll. */
export function sessionBackends(): { backends: Backend[]; start(): Promise<void>; stop(): Promise<void> } {
  let redis: RedisServer | undefined;
  const caches: Cache[] = [];
  let n = 0;
  const memory: Backend = { name: 'memory', cache: () => countingMemoryCache().cache };
  const onRedis: Backend = {
    name: 'redis',
    cache: () => {
      if (!redis) throw new Error('redis-server not started');
      const cache = new Cache({
        store: createRedisStore({ url: redis.url, commandTimeoutMs: 2000 }),
        prefix: `sess-test-${process.pid}-${++n}:`,
        timeout: '3s',
      });
      caches.push(cache);
      return cache;
    },
  };
  return {
    backends: [memory, onRedis],
    async start() {
      redis = await startRedis();
    },
    async stop() {
      for (const cache of caches) await cache.close().catch(() => {});
      await redis?.stop();
    },
  };
}
