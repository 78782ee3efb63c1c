import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { type ElastiCacheEmulator, startElastiCacheEmulator } from './elasticache-emulator';
import { type MemcachedCluster, startMemcached } from './memcached';
import { type RedisCluster, startRedisCluster } from './redis-cluster';
import { type RedisReplicaSet, startRedisReplicaSet } from './redis-replica-set';

/** Services `pnpm services` can start (`redis-cluster` only when asked for with --only). */
export const SERVICE_NAMES = ['redis', 'memcached', 'dynamodb', 'redis-cluster'] as const;
/** Started when --only is not given. */
export const DEFAULT_SERVICES: readonly ServiceName[] = ['redis', 'memcached', 'dynamodb'];
/** One of SERVICE_NAMES. */
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Options of startServices. */
export interface StartServicesOptions {
  /** Which services (default DEFAULT_SERVICES). */
  only?: readonly ServiceName[];
  /** Progress lines. */
  log?: (line: string) => void;
}

/** The running development services and the environment variables that point larder at them. */
export interface RunningServices {
  /** Environment variables to export (REDIS_URL, MEMCACHED_CONFIG_ENDPOINT, DYNAMODB_ENDPOINT, ...). */
  env: Record<string, string>;
  /** Alternatives that cannot be exported together with `env` (e.g. Sentinel mode instead of replica URLs). */
  alternatives: Record<string, string>[];
  /** Primary + 2 replicas + 1 Sentinel (service `redis`). */
  redis?: RedisReplicaSet;
  /** The 6-node cluster (service `redis-cluster`). */
  redisCluster?: RedisCluster;
  /** The 3 memcached nodes (service `memcached`). */
  memcached?: MemcachedCluster;
  /** The configuration endpoint in front of them. */
  emulator?: ElastiCacheEmulator;
  /** DynamoDB Local (service `dynamodb`). */
  dynamodb?: DynamoDbLocal;
  /** Stops everything that was started. */
  stop(): Promise<void>;
}

/**
 * Starts the development backends (used by `pnpm services`): Redis primary + 2 replicas + 1 Sentinel, three
 * memcached behind the ElastiCache emulator, DynamoDB Local, and on request a 6-node Redis Cluster.
 * On a failure it stops whatever already started.
 */
export async function startServices(options: StartServicesOptions = {}): Promise<RunningServices> {
  const only = new Set(options.only ?? DEFAULT_SERVICES);
  const log = options.log ?? (() => {});
  const stops: (() => Promise<void>)[] = [];
  const running: RunningServices = {
    env: {},
    alternatives: [],
    stop: async () => {
      await Promise.allSettled(stops.map((stop) => stop()));
    },
  };
  const tasks: Promise<void>[] = [];
  if (only.has('redis')) {
    tasks.push(
      (async () => {
        const redis = await startRedisReplicaSet({ replicas: 2, sentinels: 1 });
        stops.push(() => redis.stop());
        running.redis = redis;
        running.env.REDIS_URL = redis.primary.url;
        running.env.REDIS_REPLICA_URLS = redis.replicaUrls;
        // configFromEnv refuses REDIS_REPLICA_URLS together with REDIS_SENTINELS: Sentinel mode is the alternative.
        running.alternatives.push({ REDIS_SENTINELS: redis.sentinelAddresses, REDIS_SENTINEL_NAME: redis.masterName });
        log(
          `redis: primary ${redis.primary.address}, replicas ${redis.replicas.map((r) => r.address).join(' ')}, sentinel ${redis.sentinelAddresses}`,
        );
      })(),
    );
  }
  if (only.has('redis-cluster')) {
    tasks.push(
      (async () => {
        const cluster = await startRedisCluster();
        stops.push(() => cluster.stop());
        running.redisCluster = cluster;
        if (only.has('redis')) running.alternatives.push({ REDIS_CLUSTER_NODES: cluster.startupNodes });
        else running.env.REDIS_CLUSTER_NODES = cluster.startupNodes;
        log(`redis cluster: ${cluster.startupNodes}`);
      })(),
    );
  }
  if (only.has('memcached')) {
    tasks.push(
      (async () => {
        const memcached = await startMemcached({ count: 3 });
        stops.push(() => memcached.stop());
        running.memcached = memcached;
        const emulator = await startElastiCacheEmulator({
          nodes: memcached.nodes.map((n) => ({ host: 'localhost', ip: n.host, port: n.port })),
        });
        stops.push(() => emulator.stop());
        running.emulator = emulator;
        running.env.MEMCACHED_CONFIG_ENDPOINT = emulator.endpoint;
        running.alternatives.push({ MEMCACHED_SERVERS: memcached.servers });
        log(`memcached: ${memcached.servers} behind configuration endpoint ${emulator.endpoint}`);
      })(),
    );
  }
  if (only.has('dynamodb')) {
    tasks.push(
      (async () => {
        const dynamodb = await startDynamoDbLocal();
        stops.push(() => dynamodb.stop());
        running.dynamodb = dynamodb;
        running.env.DYNAMODB_ENDPOINT = dynamodb.endpoint;
        running.env.AWS_REGION = dynamodb.region;
        running.env.AWS_ACCESS_KEY_ID = dynamodb.credentials.accessKeyId;
        running.env.AWS_SECRET_ACCESS_KEY = dynamodb.credentials.secretAccessKey;
        log(`dynamodb local: ${dynamodb.endpoint}`);
      })(),
    );
  }
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await running.stop();
    throw failed.reason;
  }
  return running;
}
