import { type ElastiCacheEmulator, startElastiCacheEmulator } from './elasticache-emulator';
import { type MemcachedCluster, startMemcached } from './memcached';
import { type RedisServer, startRedis } from './redis';

/** Services `pnpm services` can start. */
export const SERVICE_NAMES = ['redis', 'memcached'] as const;
/** One of SERVICE_NAMES. */
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Options of startServices. */
export interface StartServicesOptions {
  /** Which services (default all). */
  only?: readonly ServiceName[];
  /** Progress lines. */
  log?: (line: string) => void;
}

/** The running development services and the environment variables that point larder at them. */
export interface RunningServices {
  /** Environment variables to export (REDIS_URL, MEMCACHED_CONFIG_ENDPOINT, ...). */
  env: Record<string, string>;
  redis?: RedisServer;
  memcached?: MemcachedCluster;
  emulator?: ElastiCacheEmulator;
  /** Stops everything that was started. */
  stop(): Promise<void>;
}

/** Starts the development backends (used by `pnpm services`); on a failure stops what already started. */
export async function startServices(options: StartServicesOptions = {}): Promise<RunningServices> {
  const only = new Set(options.only ?? SERVICE_NAMES);
  const log = options.log ?? (() => {});
  const stops: (() => Promise<void>)[] = [];
  const running: RunningServices = {
    env: {},
    stop: async () => {
      await Promise.allSettled(stops.map((stop) => stop()));
    },
  };
  try {
    if (only.has('redis')) {
      const redis = await startRedis();
      stops.push(() => redis.stop());
      running.redis = redis;
      running.env.REDIS_URL = redis.url;
      log(`redis: ${redis.url}`);
    }
    if (only.has('memcached')) {
      const memcached = await startMemcached({ count: 3 });
      stops.push(() => memcached.stop());
      const emulator = await startElastiCacheEmulator({
        nodes: memcached.nodes.map((n) => ({ host: 'localhost', ip: n.host, port: n.port })),
      });
      stops.push(() => emulator.stop());
      running.memcached = memcached;
      running.emulator = emulator;
      running.env.MEMCACHED_SERVERS = memcached.servers;
      running.env.MEMCACHED_CONFIG_ENDPOINT = emulator.endpoint;
      log(`memcached: ${memcached.servers} behind configuration endpoint ${emulator.endpoint}`);
    }
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}
