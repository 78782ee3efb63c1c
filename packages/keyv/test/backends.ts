import { Cache, type CacheOptions } from '@larder/core';
import {
  type DynamoDbLocal,
  type MemcachedCluster,
  type RedisServer,
  startDynamoDbLocal,
  startMemcached,
  startRedis,
} from '@larder/dev-services';
import { createDynamoDbStore, createTables } from '@larder/dynamodb';
import { createMemcachedStore } from '@larder/memcached';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';

/** Facade options a test may set on a backend's cache. */
export type CacheOverrides = Partial<Omit<CacheOptions, 'store' | 'prefix'>>;

/** A real backend the Keyv tests run on: started and stopped by the test file. */
export interface Backend {
  name: string;
  /** Whether the store clears by prefix (else the adapter drops a larder scope). */
  clearsByPrefix: boolean;
  /** How much earlier than its TTL the backend may expire an entry (memcached's once-a-second clock: up to 2 s). */
  earlyExpiryMs?: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A cache on this backend under `prefix` (all caches of one backend share one store). */
  cache(prefix: string, overrides?: CacheOverrides): Cache;
}

let seq = 0;
/** A prefix no other test file or run shares. */
export function uniquePrefix(label: string): string {
  seq += 1;
  return `kv-${label}-${process.pid}-${seq}:`;
}

export function memoryBackend(): Backend {
  const store = createMemoryStore();
  return {
    name: 'memory',
    clearsByPrefix: true,
    start: async () => {},
    stop: () => store.close(),
    cache: (prefix, overrides) => new Cache({ store, prefix, ...overrides }),
  };
}

export function redisBackend(): Backend & { server(): RedisServer } {
  let server: RedisServer | undefined;
  let store: ReturnType<typeof createRedisStore> | undefined;
  return {
    name: 'redis',
    clearsByPrefix: true,
    server: () => server as RedisServer,
    async start() {
      server = await startRedis();
      store = createRedisStore({ url: server.url });
    },
    async stop() {
      await store?.close();
      await server?.stop();
    },
    cache: (prefix, overrides) => new Cache({ store: store as NonNullable<typeof store>, prefix, ...overrides }),
  };
}

export function memcachedBackend(): Backend {
  let cluster: MemcachedCluster | undefined;
  let store: Awaited<ReturnType<typeof createMemcachedStore>> | undefined;
  return {
    name: 'memcached',
    clearsByPrefix: false,
    earlyExpiryMs: 2000,
    async start() {
      cluster = await startMemcached({ count: 1 });
      store = await createMemcachedStore({ servers: [cluster.servers] });
    },
    async stop() {
      await store?.close();
      await cluster?.stop();
    },
    cache: (prefix, overrides) => new Cache({ store: store as NonNullable<typeof store>, prefix, ...overrides }),
  };
}

/** One DynamoDB Local and two stores on it: with `allowClear` (clear by Scan) and without (a larder scope dropped). */
export function dynamoDbBackends(): { start(): Promise<void>; stop(): Promise<void>; backends: Backend[] } {
  let server: DynamoDbLocal | undefined;
  const stores: ReturnType<typeof createDynamoDbStore>[] = [];
  const backend = (allowClear: boolean, index: number): Backend => ({
    name: `dynamodb (DynamoDB Local, allowClear ${allowClear})`,
    clearsByPrefix: allowClear,
    start: async () => {},
    stop: async () => {},
    // timeout: DynamoDB Local serializes writes; on a busy 2-core runner a call can take seconds.
    cache: (prefix, overrides) => new Cache({ store: stores[index] as never, prefix, timeout: '30s', ...overrides }),
  });
  return {
    backends: [backend(true, 0), backend(false, 1)],
    async start() {
      server = await startDynamoDbLocal();
      const { endpoint, region, credentials } = server;
      await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
      for (const allowClear of [true, false]) {
        stores.push(createDynamoDbStore({ endpoint, region, credentials, allowClear, timeout: '30s' }));
      }
    },
    async stop() {
      for (const store of stores) await store.close();
      await server?.stop();
    },
  };
}
