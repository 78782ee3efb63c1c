import type { FleetBackend } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { compareAndSet } from '../compare-and-set';
import { fleetMembers } from '../fleet-members';

/**
 * The L1 fleet's state (leases, the registry, acknowledgements) on the bus's own Redis
 * (`InvalidationSource.fleetStore`, docs/architecture.md "The barrier"): a memcached or DynamoDB
 * store behind a bus L1 then sees no write from an idle instance. Runs on the bus's connection,
 * which is RESP3, so commands go out on it although it is subscribed; `client()` is `undefined`
 * while the bus is down, and every call then rejects (the lease lapses, as when its store fails).
 */
export function busFleet(client: () => Redis | undefined): FleetBackend {
  const ready = (): Redis => {
    const redis = client();
    if (redis === undefined) throw new Error('the L1 bus is down');
    return redis;
  };
  return {
    driver: 'redis',
    ...fleetMembers(ready),
    async get(key) {
      return (await ready().getBuffer(key)) ?? undefined;
    },
    async getMany(keys) {
      if (keys.length === 0) return [];
      return (await ready().mgetBuffer(...keys)).map((value) => value ?? undefined);
    },
    async set(key, payload, ttlMs) {
      const value = typeof payload === 'string' ? payload : Buffer.from(payload);
      if (ttlMs === undefined) await ready().set(key, value);
      else await ready().set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    compareAndSet(key, expected, payload, ttlMs) {
      const buffer = (value: string | Uint8Array) => (typeof value === 'string' ? value : Buffer.from(value));
      return compareAndSet(ready(), key, expected === undefined ? undefined : buffer(expected), buffer(payload), ttlMs);
    },
    async delete(key) {
      return (await ready().del(key)) > 0;
    },
  };
}
