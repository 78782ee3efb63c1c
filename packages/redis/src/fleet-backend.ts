import type { FleetBackend } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { compareAndSet } from './compare-and-set';
import { fleetMembers } from './fleet-members';
import { isCluster } from './ioredis-internals';
import type { RedisClient } from './options';
import { getPayloads } from './read-commands';

/** The client the fleet's state goes through, and how a fleet key is named there (on a Cluster: in one slot). */
export interface FleetClient {
  redis: RedisClient;
  /** Renames a fleet key (a hash tag on a Cluster); undefined: as is. */
  key: ((key: string) => string) | undefined;
}

/**
 * The L1 fleet's state (leases, the registry, acknowledgements) straight on a Redis client
 * (`InvalidationSource.fleetStore`, docs/architecture.md "The barrier"). Two users:
 * - the bus, on its own Redis: a memcached or DynamoDB store behind a bus L1 then sees no write
 *   from an idle instance. It runs on the bus's connection (RESP3, so commands go out on it
 *   although it is subscribed; on RESP2 its second connection); `client()` is `undefined` while
 *   the bus is down, and every call then rejects (the lease lapses, as when its store fails);
 * - tracking on a Redis Cluster store: the cache's own Cluster client, the quiet keys renamed
 *   into one slot.
 * With a rename into one hash tag, a barrier's `getMany` of N leases or acknowledgements is one
 * MGET instead of one per slot.
 */
export function redisFleet(
  client: () => FleetClient | undefined,
  options: { inCacheStore?: boolean } = {},
): FleetBackend {
  const ready = (): FleetClient => {
    const current = client();
    if (current === undefined) throw new Error('the L1 channel is down');
    return current;
  };
  const on = (key: string): [RedisClient, string] => {
    const { redis, key: rename } = ready();
    return [redis, rename === undefined ? key : rename(key)];
  };
  const members = fleetMembers(() => ready().redis);
  return {
    driver: 'redis',
    ...(options.inCacheStore && { inCacheStore: true }),
    addMember: async (key, id) => members.addMember(on(key)[1], id),
    removeMembers: async (key, ids) => members.removeMembers(on(key)[1], ids),
    listMembers: async (key) => members.listMembers(on(key)[1]),
    async get(key) {
      const [redis, name] = on(key);
      return (await redis.getBuffer(name)) ?? undefined;
    },
    async getMany(keys) {
      if (keys.length === 0) return [];
      const { redis, key: rename } = ready();
      const names = rename === undefined ? [...keys] : keys.map(rename);
      // As bytes; on a Cluster one MGET per slot (a barrier's renamed keys share one, its fence,
      // under the prefix, has its own): the driver's own multi-key read.
      return getPayloads(redis as Redis, names, true, isCluster(redis));
    },
    async set(key, payload, ttlMs) {
      const [redis, name] = on(key);
      const value = typeof payload === 'string' ? payload : Buffer.from(payload);
      if (ttlMs === undefined) await redis.set(name, value);
      else await redis.set(name, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async compareAndSet(key, expected, payload, ttlMs) {
      const [redis, name] = on(key);
      const buffer = (value: string | Uint8Array) => (typeof value === 'string' ? value : Buffer.from(value));
      return compareAndSet(redis, name, expected === undefined ? undefined : buffer(expected), buffer(payload), ttlMs);
    },
    async delete(key) {
      const [redis, name] = on(key);
      return (await redis.del(name)) > 0;
    },
  };
}
