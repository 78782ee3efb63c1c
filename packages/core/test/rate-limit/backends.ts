// The three backends of the framework rate-limit fleet test, started at once, and the stores the
// app processes open on them.
import { startDynamoDbLocal, startMemcached, startRedis } from '@larder/dev-services';
import { createTables } from '@larder/dynamodb';
import type { WorkerSpec } from './fleet';

/** The backends the fleet counts on. */
export const BACKENDS = ['redis', 'memcached', 'dynamodb'] as const;
export type Backend = (typeof BACKENDS)[number];

/** Running backends. */
export interface Backends {
  /** The store of each backend, as a process opens it (prefix `rlf:`). */
  stores: Record<Backend, WorkerSpec>;
  /** redis-server's PID (to freeze it). */
  redisPid: number;
  stop(): Promise<void>;
}

/** Starts Redis, memcached and DynamoDB Local (with the driver's table) at once. */
export async function startBackends(): Promise<Backends> {
  const [redis, memcached, dynamodb] = await Promise.all([startRedis(), startMemcached(), startDynamoDbLocal()]);
  const stop = async () => {
    await Promise.all([redis.stop(), memcached.stop(), dynamodb.stop()]);
  };
  const { endpoint, region, credentials } = dynamodb;
  try {
    await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    stores: {
      redis: { driver: 'redis', prefix: 'rlf:', redisUrl: redis.url },
      memcached: { driver: 'memcached', prefix: 'rlf:', memcachedServers: [memcached.nodes[0]!.address] },
      dynamodb: { driver: 'dynamodb', prefix: 'rlf:', dynamodb: { endpoint, region, credentials } },
    },
    redisPid: redis.pid as number,
    stop,
  };
}
