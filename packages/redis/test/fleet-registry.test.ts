import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';

// The L1 fleet's registry on Redis is a set (SADD/SREM): a rolling deploy that starts and stops
// instances in batches never retries a compare-and-set against the rest of the fleet.

const FLEET = 64;
const BATCH = 8;
const PREFIX = 'roll:';
const MEMBERS = `__larder:fleet:${PREFIX}members`;

describe('an L1 fleet of 64 on Redis, replaced 8 at a time', () => {
  let server: RedisServer;
  let admin: Redis;
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await Promise.all(stores.map((store) => store.close()));
    await server?.stop();
  });

  /** `count` new instances (a store and a cache each), up once their lease holds. */
  const start = async (count: number): Promise<Cache[]> => {
    const caches = Array.from({ length: count }, () => {
      const store = createRedisStore({ url: server.url });
      stores.push(store);
      return new Cache({ store, prefix: PREFIX, l1: { invalidation: 'tracking' } });
    });
    await Promise.all(
      caches.map((cache) => waitFor(async () => (await cache.describeL1())?.fleet?.leaseHeld === true)),
    );
    return caches;
  };
  const fleetIds = async (caches: Cache[]) =>
    (await Promise.all(caches.map(async (cache) => (await cache.describeL1())?.fleet?.id))).sort();

  it('every instance joins and leaves the registry in one command; each barrier waits for the fleet of the moment', async () => {
    let fleet = await start(FLEET);
    expect(await admin.type(MEMBERS)).toBe('set');
    expect((await admin.smembers(MEMBERS)).sort()).toEqual(await fleetIds(fleet));
    expect(await admin.exists(`__larder:fleet:${PREFIX}instances`)).toBe(0);
    for (let step = 0; step < FLEET / BATCH; step++) {
      const leaving = fleet.slice(0, BATCH);
      const [joined] = await Promise.all([start(BATCH), Promise.all(leaving.map((cache) => cache.close()))]);
      fleet = [...fleet.slice(BATCH), ...joined];
      expect((await admin.smembers(MEMBERS)).sort()).toEqual(await fleetIds(fleet));
      // A write and a barrier from one of the new instances: every other instance drops its copy.
      const writer = joined[0] as Cache;
      const key = `k${step}`;
      await writer.tags(['roll']).set(key, step, '1m');
      await Promise.all(fleet.map((cache) => cache.get(key)));
      await writer.invalidateTags(['roll']);
      const barrier = (await writer.describeL1())?.fleet?.lastBarrier;
      expect(barrier).toMatchObject({ outcome: 'ok', instances: FLEET - 1, acknowledged: FLEET - 1, lapsed: 0 });
      for (const cache of fleet) expect(await cache.get(key)).toBeUndefined();
    }
    expect(await admin.scard(MEMBERS)).toBe(FLEET);
    expect(await admin.exists(`__larder:fleet:${PREFIX}instances`)).toBe(0);
  }, 120_000);
});
