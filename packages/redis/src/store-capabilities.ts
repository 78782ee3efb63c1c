import type { StoreCapabilities } from '@larder/core/driver';
import { probeIoredis } from './ioredis-internals';
import type { RedisMode, ResolvedRedisOptions } from './options';

/** What a Redis store can do, from its resolved options and the topology it connected to. */
export function redisCapabilities(options: ResolvedRedisOptions, mode: RedisMode, cluster: boolean): StoreCapabilities {
  return {
    atomicAdd: true,
    ttlPrecisionMs: 1,
    maxKeyBytes: options.maxKeyBytes,
    maxValueBytes: options.maxValueBytes,
    inProcess: false,
    // Clients this store creates time every command (commandTimeoutMs); a call is at most two
    // commands in a row (a write and its WAIT, a replica read retried on the primary within half
    // the timeout), so it settles within twice that: the facade then arms no timer of its own
    // (docs/architecture.md, "Timeouts"). An injected client keeps whatever timeouts it was given,
    // and a Cluster can time the commands it queues only with what the ioredis probe found.
    deadlineMs:
      mode === 'client' || (cluster && !probeIoredis().clusterSubmitTimeouts)
        ? undefined
        : 2 * options.commandTimeoutMs,
  };
}
