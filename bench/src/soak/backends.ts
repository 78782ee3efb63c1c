/** The soak's backends: each starts its own server (@larder/dev-services) and opens stores on it. */
import type { CacheStore } from '@larder/core/driver';
import { startDynamoDbLocal, startMemcached, startRedis } from '@larder/dev-services';
import { createDynamoDbStore, createTables } from '@larder/dynamodb';
import { createMemcachedStore } from '@larder/memcached';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';

/** A running server (none for memory) that stores can be opened on. */
export interface Backend {
  /** Opens a new store on the server (the soak closes it). */
  open(): Promise<CacheStore>;
  /** Stops the server. */
  stop(): Promise<void>;
}

/** Drivers the soak knows, in run order. */
export const DRIVERS = ['memory', 'redis', 'memcached', 'dynamodb'] as const;
export type Driver = (typeof DRIVERS)[number];

/** Starts the server of `driver`. */
export async function startBackend(driver: Driver): Promise<Backend> {
  switch (driver) {
    case 'memory':
      return { open: async () => createMemoryStore({ maxEntries: 10_000 }), stop: async () => {} };
    case 'redis': {
      const server = await startRedis();
      return { open: async () => createRedisStore({ url: server.url }), stop: () => server.stop() };
    }
    case 'memcached': {
      const cluster = await startMemcached({ count: 2 });
      const servers = cluster.servers.split(',');
      return { open: () => createMemcachedStore({ servers }), stop: () => cluster.stop() };
    }
    case 'dynamodb': {
      const server = await startDynamoDbLocal();
      const { endpoint, region, credentials } = server;
      await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
      return {
        open: async () => createDynamoDbStore({ endpoint, region, credentials, table: 'CacheTable' }),
        stop: () => server.stop(),
      };
    }
  }
}
