import { Cache } from '@larder/core';
import { type FaultProxy, type RedisServer, startFaultProxy, startRedis, waitFor } from '@larder/dev-services';
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
  /** The instances other than the writer reach Redis through it, 5 ms away: they hear of a write after the writer's reply. */
  let far: FaultProxy;
  let admin: Redis;
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    server = await startRedis();
    far = await startFaultProxy({ target: { host: server.host, port: server.port } });
    far.setFault({ kind: 'latency', ms: 5 });
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await Promise.all(stores.map((store) => store.close()));
    await far?.close();
    await server?.stop();
  });

  /** `count` new instances (a store and a cache each), up once their lease holds. */
  const start = async (count: number, near = false): Promise<Cache[]> => {
    const url = near ? server.url : `redis://${far.host}:${far.port}`;
    const caches = Array.from({ length: count }, () => {
      const store = createRedisStore({ url });
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

  it('every instance joins and leaves the registry in one command; while a writer commits a new value every 100 ms, no read started after a commit returns an older one', async () => {
    const [writer] = await start(1, true);
    let fleet = await start(FLEET - 1);
    const ids = async () => fleetIds([writer as Cache, ...fleet]);
    expect(await admin.type(MEMBERS)).toBe('set');
    expect((await admin.smembers(MEMBERS)).sort()).toEqual(await ids());
    expect(await admin.exists(`__larder:fleet:${PREFIX}instances`)).toBe(0);
    // The writer: a new value, then the barrier (syncL1); `committed` is the newest value every read started after must see.
    let committed = 0;
    let running = true;
    const barriers: number[] = [];
    const writes = (async () => {
      for (let v = 1; running; v++) {
        await (writer as Cache).set('live', v, '1m');
        const began = performance.now();
        await (writer as Cache).syncL1();
        barriers.push(performance.now() - began);
        committed = v;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    // Readers on every instance that is not being replaced.
    let readable = new Set(fleet);
    let reads = 0;
    const stale: string[] = [];
    const readers = Array.from({ length: 16 }, async (_, r) => {
      while (running) {
        const pool = [...readable];
        const cache = pool[(reads + r) % pool.length] as Cache;
        const floor = committed;
        const got = (await cache.get('live')) as number | undefined;
        reads++;
        if (got !== undefined && got < floor) stale.push(`${got} < ${floor}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    for (let step = 0; step < FLEET / BATCH; step++) {
      const leaving = fleet.slice(0, BATCH);
      readable = new Set(fleet.slice(BATCH));
      const [joined] = await Promise.all([start(BATCH), Promise.all(leaving.map((cache) => cache.close()))]);
      fleet = [...fleet.slice(BATCH), ...joined];
      readable = new Set(fleet);
      expect((await admin.smembers(MEMBERS)).sort()).toEqual(await ids());
    }
    const committedAtEnd = committed;
    await waitFor(async () => committed > committedAtEnd + 2, { description: 'two more commits with the new fleet' });
    running = false;
    await Promise.all([writes, ...readers]);
    expect(stale).toEqual([]);
    expect(reads).toBeGreaterThan(1000);
    expect(Math.max(...barriers)).toBeLessThan(3 * 2000); // three leases (the default lease is 2 s)
    expect(await admin.scard(MEMBERS)).toBe(FLEET);
  }, 120_000);
});
