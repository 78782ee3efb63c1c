/**
 * The tags scenario's world: one redis-server, the larder caches and bentocache instances its rows
 * compare, the floor rows' raw client and scripts, and the key sets, written before any case runs.
 */
import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { Redis } from 'ioredis';
import { type Bento, bento } from './tags-bento';
import { GET_WITH_COUNTERS, loadSetTagged, SET_WITH_COUNTERS } from './tags-floor';
import { keySet, VALUE } from './workload';

export const KEYS = 1000;
/** Tags of every tagged entry: a broad one, a group and the entry's own (as "purge product 42" apps tag). */
export const tagsOf = (i: number) => ['products', `category:${i % 20}`, `product:${i % KEYS}`];
export const TTL = '1h';
export const INSTANCES = 3;
/** The second key set: 100,000 keys read with a Zipf skew (s = 1); the L1s (10,000 entries) hold only its hot part. */
export const ZIPF_KEYS = 100_000;
const ZIPF_SET = keySet(ZIPF_KEYS, 'Zipf');
export const L1_ENTRIES = 10_000;

/** What the tags scenario's cases run against. */
export interface Ctx {
  server: RedisServer;
  /** Reads INFO for the server columns (no subject uses it). */
  stats: Redis;
  /** SHA of `GET_WITH_COUNTERS` (loaded on the server). */
  getWithCounters: string;
  /** SHA of `SET_WITH_COUNTERS` (loaded on the server). */
  setWithCounters: string;
  /** SHA of the Redis driver's SET_TAGGED (loaded on the server). */
  setTagged: string;
  /** The floor rows. */
  raw: Redis;
  /** No L1, never uses tags: plain GETs (the untagged rows). */
  plain: Cache;
  /** No L1: every get reads Redis; writes tagged entries. */
  l2: Cache;
  /** The tagged set rows, under a prefix no L1 tracks (as the untagged ones: `plain`). */
  tagWriter: Cache;
  /** Writes with a tracking L1 (tagged writes with known versions). */
  l1Writer: Cache;
  /** L1 kept by tracking. */
  l1: Cache;
  /** Another such L1, for the tagged rows of the large key set (each row fills an L1 of its own). */
  l1Tagged: Cache;
  /** Three instances with an L1 each, for `invalidateTags` to the last one. */
  fleet: Cache[];
  bentoL2: Bento;
  bentoL1: Bento;
  bentoL1Tagged: Bento;
  bentoFleet: Bento[];
  /** Latencies of each invalidation case, ms. */
  latencies: Map<string, number[]>;
  closers: (() => Promise<unknown>)[];
}

export const key = (i: number) => `k${i % KEYS}`;
const taggedKey = (i: number) => `t${i % KEYS}`;
/** Keys of a read row: untagged and tagged, by the case's counter. */
export interface KeyNames {
  label: string;
  plain(i: number): string;
  tagged(i: number): string;
  /** The tags of `tagged(i)` (from the key's number, as an app builds them from its record). */
  tags(i: number): string[];
}
export const SMALL: KeyNames = {
  label: `${KEYS.toLocaleString('en')} keys`,
  plain: key,
  tagged: taggedKey,
  tags: (i) => tagsOf(i % KEYS),
};
const zipfIndex = ZIPF_SET.index;
export const ZIPF: KeyNames = {
  label: ZIPF_SET.label,
  plain: (i) => `zk${zipfIndex(i)}`,
  tagged: (i) => `zt${zipfIndex(i)}`,
  tags: (i) => tagsOf(zipfIndex(i)),
};

/** Runs `write(n)` for n in [0, count), 64 at a time. */
async function fill(count: number, write: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await write(next++);
  };
  await Promise.all(Array.from({ length: 64 }, worker));
}

/** Starts the server, makes the caches and peers, and writes every key set's entries. */
export async function setupTags(): Promise<Ctx> {
  const server = await startRedis();
  const closers: (() => Promise<unknown>)[] = [];
  const cache = (l1: boolean, prefix = 'larder:') =>
    new Cache({
      store: createRedisStore({ url: server.url }),
      prefix,
      ...(l1 ? { l1: { invalidation: 'tracking', maxEntries: L1_ENTRIES } as const } : {}),
    });
  const plain = cache(false, 'plain:');
  const l2 = cache(false);
  const tagWriter = cache(false, 'tagset:');
  // A writer with the L1: a tagged write records the versions its writes read last (no script).
  const l1Writer = cache(true, 'tagset-l1:');
  const l1 = cache(true);
  const l1Tagged = cache(true);
  const fleet = Array.from({ length: INSTANCES }, () => cache(true));
  const bentoL2 = bento(server, 0, false);
  const bentoL1 = bento(server, L1_ENTRIES, false);
  const bentoL1Tagged = bento(server, L1_ENTRIES, false);
  const bentoFleet = Array.from({ length: INSTANCES }, () => bento(server, L1_ENTRIES, true));
  const stats = new Redis(server.url);
  const raw = new Redis(server.url);
  closers.push(
    () => stats.quit(),
    () => raw.quit(),
  );
  for (const c of [plain, l2, tagWriter, l1Writer, l1, l1Tagged, ...fleet]) closers.push(() => c.close());
  for (const b of [bentoL2, bentoL1, bentoL1Tagged, ...bentoFleet]) closers.push(() => b.disconnectAll());
  for (let i = 0; i < KEYS; i++) {
    await plain.set(key(i), VALUE, TTL);
    await l2.set(key(i), VALUE, TTL);
    await l2.tags(tagsOf(i)).set(taggedKey(i), VALUE, TTL);
    await bentoL2.set({ key: key(i), value: VALUE, ttl: TTL });
    await bentoL2.set({ key: taggedKey(i), value: VALUE, ttl: TTL, tags: tagsOf(i) });
    await raw.set(`raw:${key(i)}`, JSON.stringify(VALUE));
  }
  for (const tag of new Set(Array.from({ length: KEYS }, (_, i) => tagsOf(i)).flat()))
    await raw.set(`raw:tag:${tag}`, 1);
  const getWithCounters = (await raw.script('LOAD', GET_WITH_COUNTERS)) as string;
  const setWithCounters = (await raw.script('LOAD', SET_WITH_COUNTERS)) as string;
  const setTagged = await loadSetTagged(raw);
  await fill(ZIPF_KEYS, async (n) => {
    await Promise.all([
      plain.set(`zk${n}`, VALUE, TTL),
      l2.set(`zk${n}`, VALUE, TTL),
      l2.tags(tagsOf(n)).set(`zt${n}`, VALUE, TTL),
      bentoL2.set({ key: `zk${n}`, value: VALUE, ttl: TTL }),
      bentoL2.set({ key: `zt${n}`, value: VALUE, ttl: TTL, tags: tagsOf(n) }),
    ]);
  });
  return {
    server,
    raw,
    getWithCounters,
    setWithCounters,
    setTagged,
    stats,
    plain,
    l2,
    tagWriter,
    l1Writer,
    l1,
    l1Tagged,
    fleet,
    bentoL2,
    bentoL1,
    bentoL1Tagged,
    bentoFleet,
    latencies: new Map(),
    closers,
  };
}
