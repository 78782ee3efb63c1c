/**
 * Keyv / cache-manager users: cache-manager 7 over `createKeyv` (larder's `@larder/keyv`) against
 * cache-manager 7 over keyv + `@keyv/redis` and keyv + `@keyv/memcache`, on one redis-server and
 * one memcached started here; with larder's L1 on, the same reads of a hot key set.
 */
import KeyvMemcache from '@keyv/memcache';
import KeyvRedis from '@keyv/redis';
import { Cache } from '@larder/core';
import { type MemcachedCluster, type RedisServer, startMemcached, startRedis } from '@larder/dev-services';
import { createKeyv, KeyvLarder } from '@larder/keyv';
import { createMemcachedStore } from '@larder/memcached';
import { createRedisStore } from '@larder/redis';
import { type Cache as CacheManager, createCache } from 'cache-manager';
import Keyv from 'keyv';
import type { BenchCase, Scenario } from '../harness';
import { type KeySet, VALUE, WRITE_KEY_SETS } from '../workload';

const KEYS = 1000;
const directOp = (concurrency: number, set: KeySet) => `Redis set ×${concurrency}, no cache-manager · ${set.label}`;
const BACKENDS = ['Redis', 'memcached'] as const;
type Backend = (typeof BACKENDS)[number];

const LARDER = 'cache-manager + createKeyv';
const LARDER_L1 = 'cache-manager + createKeyv, L1 on';
const PEER = 'cache-manager + @keyv/redis | @keyv/memcache';

interface Ctx {
  redis: RedisServer;
  memcached: MemcachedCluster;
  /** cache-manager instances per backend and subject. */
  managers: Record<Backend, Record<string, CacheManager>>;
  /** A Cache on Redis and a Keyv over it (createKeyv), without cache-manager: what KeyvLarder adds to `Cache.set`. */
  direct: { cache: Cache; keyv: Keyv; adapter: KeyvLarder; bare: Keyv; l1Cache: Cache; l1Keyv: Keyv };
  closers: (() => Promise<unknown>)[];
}

const key = (i: number) => `k${i % KEYS}`;
const CACHE_SET = 'larder Cache.set';
const KEYV_SET = 'Keyv.set over createKeyv (KeyvLarder)';
const ADAPTER_SET = 'KeyvLarder.set alone (no Keyv)';
const CACHE_SET_L1 = 'larder Cache.set, tracking L1';
const KEYV_SET_L1 = 'Keyv.set over createKeyv (KeyvLarder), tracking L1';
const BARE_SET = 'floor: Keyv.set over a one-line adapter (cache.set)';
const silent = { log: () => undefined };

async function setup(): Promise<Ctx> {
  const [redis, memcached] = await Promise.all([startRedis(), startMemcached({ count: 1 })]);
  const closers: (() => Promise<unknown>)[] = [];
  const larder = (store: ConstructorParameters<typeof Cache>[0]['store'], l1: boolean, busUrl?: string) => {
    const cache = new Cache({
      store,
      prefix: l1 ? 'bench-l1:' : 'bench:',
      ...(l1 ? { l1: busUrl ? { invalidation: 'bus' as const, busUrl } : { invalidation: 'tracking' as const } } : {}),
    });
    closers.push(() => cache.close());
    return createCache({ stores: [createKeyv(cache)] });
  };
  const peer = (keyv: Keyv) => {
    closers.push(() => keyv.disconnect());
    return createCache({ stores: [keyv] });
  };
  const managers: Ctx['managers'] = {
    Redis: {
      [LARDER]: larder(createRedisStore({ url: redis.url }), false),
      [LARDER_L1]: larder(createRedisStore({ url: redis.url }), true),
      [PEER]: peer(new Keyv({ store: new KeyvRedis(redis.url), namespace: 'cm' })),
    },
    memcached: {
      [LARDER]: larder(await createMemcachedStore({ servers: [memcached.servers] }), false),
      // memcached has no tracking: the L1 hears of other instances' writes over a Redis Pub/Sub bus.
      [LARDER_L1]: larder(await createMemcachedStore({ servers: [memcached.servers] }), true, redis.url),
      [PEER]: peer(new Keyv({ store: new KeyvMemcache(memcached.servers, { logger: silent }), namespace: 'cm' })),
    },
  };
  for (const backend of BACKENDS) {
    for (const manager of Object.values(managers[backend])) {
      for (let start = 0; start < KEYS; start += 100) {
        await manager.mset(Array.from({ length: 100 }, (_, j) => ({ key: key(start + j), value: VALUE })));
      }
    }
  }
  const directCache = new Cache({ store: createRedisStore({ url: redis.url }), prefix: 'bench-direct:' });
  closers.push(() => directCache.close());
  // The floor: Keyv 5 configured as createKeyv configures it, over an adapter that only calls
  // `cache.set`: what Keyv's own `set` (hooks, the `{ value, expires }` envelope, two awaits) costs.
  const bareAdapter = {
    get: (k: string) => directCache.get(k),
    set: (k: string, v: unknown, ttl?: number) => directCache.set(k, v, ttl).then(() => true),
    delete: (k: string) => directCache.delete(k),
    clear: () => Promise.resolve(),
  };
  const bare = new Keyv({
    store: bareAdapter as unknown as ConstructorParameters<typeof Keyv>[0],
    useKeyPrefix: false,
    serialize: undefined,
    deserialize: undefined,
  } as ConstructorParameters<typeof Keyv>[0]);
  const adapter = new KeyvLarder(directCache, { contract: 5, namespace: 'keyv' });
  // With a tracking L1 the namespace's scope versions are known here: its writes are plain SETs.
  const l1Cache = new Cache({
    store: createRedisStore({ url: redis.url }),
    prefix: 'bench-direct-l1:',
    l1: { invalidation: 'tracking' },
  });
  closers.push(() => l1Cache.close());
  const direct = {
    cache: directCache,
    keyv: createKeyv(directCache),
    adapter,
    bare,
    l1Cache,
    l1Keyv: createKeyv(l1Cache),
  };
  return { redis, memcached, managers, direct, closers };
}

function cases(): BenchCase<Ctx>[] {
  const list: BenchCase<Ctx>[] = [];
  for (const backend of BACKENDS) {
    for (const concurrency of [1, 64]) {
      for (const subject of [PEER, LARDER, LARDER_L1]) {
        list.push({
          op: `${backend} get (hit) ×${concurrency}`,
          subject,
          concurrency,
          run: (c, i) => c.managers[backend][subject]?.get(key(i)),
        });
      }
    }
    // No set rows for the L1 subject: its keys are written only in setup, so every get it makes
    // is a hot read (a write would drop the key from this L1 and, over the bus, queue invalidations).
    for (const concurrency of [1, 64]) {
      for (const subject of [PEER, LARDER]) {
        list.push({
          op: `${backend} set ×${concurrency}`,
          subject,
          concurrency,
          run: (c, i) => c.managers[backend][subject]?.set(key(i), VALUE, 600_000),
        });
      }
    }
  }
  for (const set of WRITE_KEY_SETS) {
    const name = (i: number) => `k${set.index(i)}`;
    for (const concurrency of [1, 64]) {
      const op = directOp(concurrency, set);
      list.push(
        { op, subject: CACHE_SET, concurrency, run: (c, i) => c.direct.cache.set(name(i), VALUE, 600_000) },
        { op, subject: KEYV_SET, concurrency, run: (c, i) => c.direct.keyv.set(name(i), VALUE, 600_000) },
        { op, subject: BARE_SET, concurrency, run: (c, i) => c.direct.bare.set(name(i), VALUE, 600_000) },
      );
      if (set !== WRITE_KEY_SETS[0]) continue;
      list.push(
        { op, subject: ADAPTER_SET, concurrency, run: (c, i) => c.direct.adapter.set(name(i), VALUE, 600_000) },
        { op, subject: CACHE_SET_L1, concurrency, run: (c, i) => c.direct.l1Cache.set(name(i), VALUE, 600_000) },
        { op, subject: KEYV_SET_L1, concurrency, run: (c, i) => c.direct.l1Keyv.set(name(i), VALUE, 600_000) },
      );
    }
  }
  return list;
}

/** The keyv scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'keyv',
  description:
    'cache-manager 7 get (hit) / set of a ~200-byte object at 1 and 64 in flight, over createKeyv (larder) and over keyv + @keyv/redis and @keyv/memcache, on one redis-server and one memcached on loopback; 1,000 keys, so with the L1 on every get is a hot read.',
  baseline: PEER,
  setup,
  cases: cases(),
  counters: [
    {
      // Client CPU per operation: steadier than ops/s on a loaded machine (the servers' CPU is not in it).
      name: 'client CPU µs/op',
      read: () => {
        const { user, system } = process.cpuUsage();
        return user + system;
      },
      digits: 1,
    },
  ],
  targets: BACKENDS.flatMap((backend) =>
    [1, 64].flatMap((n) => [
      { op: `${backend} get (hit) ×${n}`, subject: LARDER, over: PEER, atLeast: 1 },
      { op: `${backend} get (hit) ×${n}`, subject: LARDER_L1, over: PEER, atLeast: 10 },
      { op: `${backend} set ×${n}`, subject: LARDER, over: PEER, atLeast: 1 },
    ]),
  ).concat(
    WRITE_KEY_SETS.flatMap((set) =>
      [1, 64].flatMap((n) => [
        { op: directOp(n, set), subject: KEYV_SET, over: CACHE_SET, atLeast: 0.95 },
        { op: directOp(n, set), subject: KEYV_SET, over: BARE_SET, atLeast: 0.95 },
      ]),
    ),
  ),
  notes: [
    `"${ADAPTER_SET}" calls the adapter as Keyv would, without Keyv; "${BARE_SET}" is Keyv 5, configured as createKeyv configures it, over an adapter whose set is one call of \`cache.set\`: the floor of any Keyv adapter, so "${KEYV_SET}" over it is what KeyvLarder adds, and the floor over "${CACHE_SET}" is what Keyv itself costs.`,
    `"${PEER}" is cache-manager over keyv + @keyv/redis on the Redis rows and keyv + @keyv/memcache on the memcached rows (Keyv's JSON serialization, as their users run them).`,
    `"${LARDER}": createKeyv over a larder Cache (Keyv's serialization off, larder's codec). "${LARDER_L1}": the same with larder's L1 (Redis: CLIENT TRACKING; memcached: a Redis Pub/Sub bus).`,
    `The "no cache-manager" set rows run on four key sets: ${WRITE_KEY_SETS.map((set) => set.label).join(', ')} (a fixed random order each, the same for every subject); "${ADAPTER_SET}" and the tracking-L1 rows on the first only.`,
    'Versions: cache-manager 7.2.9, keyv 5.6.0, @keyv/redis 5.1.6 (node-redis), @keyv/memcache 2.0.2 (memjs), ioredis 6.0.0, memjs 1.3.2.',
  ],
  async teardown(c) {
    for (const close of c.closers) await close().catch(() => undefined);
    await Promise.all([c.redis.stop(), c.memcached.stop()]);
  },
};
