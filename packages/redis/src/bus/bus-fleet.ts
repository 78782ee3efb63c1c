import type { FleetBackend } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { compareAndSet } from '../compare-and-set';
import { fleetMembers } from '../fleet-members';

/** The bus's connection while it is up, and how a fleet key is named there (on a Cluster: in the channel's slot). */
export interface BusFleetClient {
  redis: Redis;
  /** Renames a fleet key (a hash tag on a Cluster); undefined: as is. */
  key: ((key: string) => string) | undefined;
}

/**
 * The L1 fleet's state (leases, the registry, acknowledgements) on the bus's own Redis
 * (`InvalidationSource.fleetStore`, docs/architecture.md "The barrier"): a memcached or DynamoDB
 * store behind a bus L1 then sees no write from an idle instance. Runs on the bus's connection,
 * which is RESP3, so commands go out on it although it is subscribed; `client()` is `undefined`
 * while the bus is down, and every call then rejects (the lease lapses, as when its store fails).
 * On a Redis Cluster every key carries the channel's hash tag: one shard, one connection, and a
 * barrier's `getMany` is one MGET.
 */
export function busFleet(client: () => BusFleetClient | undefined): FleetBackend {
  const ready = (): BusFleetClient => {
    const current = client();
    if (current === undefined) throw new Error('the L1 bus is down');
    return current;
  };
  const on = (key: string): [Redis, string] => {
    const { redis, key: rename } = ready();
    return [redis, rename === undefined ? key : rename(key)];
  };
  const members = fleetMembers(() => ready().redis);
  return {
    driver: 'redis',
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
      const names = rename === undefined ? keys : keys.map(rename);
      return (await redis.mgetBuffer(...names)).map((value) => value ?? undefined);
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
