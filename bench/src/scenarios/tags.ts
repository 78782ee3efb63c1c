/**
 * Tags: a tagged get and set against untagged ones on Redis (L2 only, and with the L1 kept by
 * CLIENT TRACKING), and `invalidateTags` to the last of three instances, against bentocache's
 * tags (`set({ tags })`, `deleteByTag`) on the same redis-server in the same run.
 */
import type { Cache } from '@larder/core';
import type { BenchCase, Scenario } from '../harness';
import { redisCommandsColumn, redisCpuColumn } from '../redis-counters';
import type { Bento } from '../tags-bento';
import { RAW_SET_TAGGED, setTaggedFloor } from '../tags-floor';
import {
  type Ctx,
  INSTANCES,
  KEYS,
  type KeyNames,
  key,
  L1_ENTRIES,
  SMALL,
  setupTags,
  TTL,
  tagsOf,
  ZIPF,
  ZIPF_KEYS,
} from '../tags-setup';
import { VALUE } from '../workload';

const LARDER = 'larder (untagged)';
const LARDER_SAME_CACHE = 'larder (untagged, cache that uses tags)';
const LARDER_TAGGED = 'larder (3 tags)';
const BENTO = 'bentocache (untagged)';
const LARDER_L1 = 'larder, tracking L1 (untagged)';
const LARDER_L1_TAGGED = 'larder, tracking L1 (3 tags, versions known: a plain SET)';
const RAW_GET = 'floor: raw ioredis GET';
const RAW_GET_MGET = 'floor: raw ioredis GET + MGET of 3 counters, pipelined (one round trip)';
const RAW_SCRIPT = 'floor: raw ioredis EVALSHA of a script doing GET + MGET of 3 named counters';
const BENTO_TAGGED = 'bentocache (3 tags)';
const RAW_SET = 'floor: raw ioredis SET';
const RAW_SET_SCRIPT = 'floor: raw ioredis EVALSHA of a script doing MGET of 3 named counters + SET';

/** The read rows of one op: larder untagged and tagged, bentocache untagged and tagged, and (`floors`) raw ioredis. */
interface ReadRows {
  op: string;
  /** The cache of the untagged row (a cache that never used tags). */
  untagged: (c: Ctx) => Cache;
  /** The cache that wrote the tagged entries (`undefined`: `untagged` did). */
  tagging?: (c: Ctx) => Cache;
  peer: (c: Ctx) => Bento;
  /** bentocache's instance for the tagged row (`undefined`: `peer`). */
  peerTagged?: (c: Ctx) => Bento;
  keys: KeyNames;
  /** Also the raw ioredis floor rows. */
  floors?: boolean;
  /** Also an untagged read through the cache that uses tags. */
  sameCache?: boolean;
}

function readCases({ op, untagged, tagging, peer, peerTagged, keys, floors, sameCache }: ReadRows): BenchCase<Ctx>[] {
  const larder = tagging ?? untagged;
  const peerOfTagged = peerTagged ?? peer;
  const floorRows: BenchCase<Ctx>[] = [
    { op, subject: RAW_GET, run: async (c, i) => JSON.parse((await c.raw.get(`raw:${key(i)}`)) as string) },
    {
      op,
      subject: RAW_GET_MGET,
      run: async (c, i) => {
        const replies = await c.raw
          .pipeline()
          .get(`raw:${key(i)}`)
          .mget(tagsOf(i).map((tag) => `raw:tag:${tag}`))
          .exec();
        return JSON.parse(replies?.[0]?.[1] as string);
      },
    },
    {
      op,
      subject: RAW_SCRIPT,
      run: async (c, i) => {
        const counters = tagsOf(i).map((tag) => `raw:tag:${tag}`);
        const reply = (await c.raw.evalsha(c.getWithCounters, 4, `raw:${key(i)}`, ...counters)) as string[];
        return JSON.parse(reply[0] as string);
      },
    },
  ];
  return [
    ...(floors ? floorRows : []),
    { op, subject: LARDER, run: (c, i) => untagged(c).get(keys.plain(i)) },
    ...(tagging && sameCache
      ? [{ op, subject: LARDER_SAME_CACHE, run: (c: Ctx, i: number) => tagging(c).get(keys.plain(i)) }]
      : []),
    { op, subject: LARDER_TAGGED, run: (c, i) => larder(c).get(keys.tagged(i)) },
    { op, subject: BENTO, run: (c, i) => peer(c).get({ key: keys.plain(i) }) },
    { op, subject: BENTO_TAGGED, run: (c, i) => peerOfTagged(c).get({ key: keys.tagged(i) }) },
  ];
}

const L2_GET = 'get (hit) ×1, L2 only';
const L2_GET_ZIPF = `${L2_GET} · ${ZIPF.label}`;
const L1_GET = 'get (hit) ×1, with L1';
const L1_GET_ZIPF = `get (hit) ×1, with L1 (${L1_ENTRIES.toLocaleString('en')} entries) · ${ZIPF.label}`;

const SET = 'set ×1 (L2 only)';
const SET_64 = 'set ×64 (L2 only)';
/** Tagged writes batch by what is outstanding: a count of writes in flight that is no multiple of a batch (issue 38). */
const SET_50 = 'set ×50 (L2 only)';
const SET_ZIPF = `${SET} · ${ZIPF.label}`;

/** Untagged and tagged sets of `keys` at `concurrency` in flight, larder and bentocache. */
function setCases(op: string, keys: KeyNames, concurrency: number): BenchCase<Ctx>[] {
  // Not parsed back out of the key's name (a regex per write, charged to the tagged rows before).
  const tagged = (i: number) => [keys.tagged(i), keys.tags(i)] as const;
  const taggedSet = (writer: (c: Ctx) => Cache) => (c: Ctx, i: number) => {
    const [name, tags] = tagged(i);
    return writer(c).tags(tags).set(name, VALUE, TTL);
  };
  const json = JSON.stringify(VALUE);
  const ttlMs = String(3_600_000);
  return [
    { op, subject: RAW_SET, concurrency, run: (c, i) => c.raw.set(`raw:${keys.plain(i)}`, json, 'PX', ttlMs) },
    {
      op,
      subject: RAW_SET_SCRIPT,
      concurrency,
      run: (c, i) => {
        const [name, tags] = tagged(i);
        const counters = tags.map((tag) => `raw:tag:${tag}`);
        return c.raw.evalsha(c.setWithCounters, 4, `raw:${name}`, ...counters, json, ttlMs);
      },
    },
    {
      op,
      subject: RAW_SET_TAGGED,
      concurrency,
      run: (c, i) => setTaggedFloor(c.raw, c.setTagged, keys.tagged(i), keys.tags(i), json, 3_600_000),
    },
    { op, subject: LARDER, concurrency, run: (c, i) => c.plain.set(keys.plain(i), VALUE, TTL) },
    { op, subject: LARDER_TAGGED, concurrency, run: taggedSet((c) => c.tagWriter) },
    { op, subject: LARDER_L1, concurrency, run: (c, i) => c.l1Writer.set(keys.plain(i), VALUE, TTL) },
    { op, subject: LARDER_L1_TAGGED, concurrency, run: taggedSet((c) => c.l1Writer) },
    { op, subject: BENTO, concurrency, run: (c, i) => c.bentoL2.set({ key: keys.plain(i), value: VALUE, ttl: TTL }) },
    {
      op,
      subject: BENTO_TAGGED,
      concurrency,
      run: (c, i) => {
        const [name, tags] = tagged(i);
        return c.bentoL2.set({ key: name, value: VALUE, ttl: TTL, tags });
      },
    },
  ];
}
const INVALIDATE = `invalidate one tag, ${INSTANCES} instances with L1 (write, then every instance re-reads)`;

/** Times one invalidation case's call (ms), for the p50/p99 note. */
async function timed(c: Ctx, subject: string, call: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await call();
  const list = c.latencies.get(subject) ?? [];
  list.push(performance.now() - start);
  c.latencies.set(subject, list);
}

const cases: BenchCase<Ctx>[] = [
  ...readCases({
    op: L2_GET,
    untagged: (c) => c.plain,
    tagging: (c) => c.l2,
    peer: (c) => c.bentoL2,
    keys: SMALL,
    floors: true,
    sameCache: true,
  }),
  ...readCases({
    op: L2_GET_ZIPF,
    untagged: (c) => c.plain,
    tagging: (c) => c.l2,
    peer: (c) => c.bentoL2,
    keys: ZIPF,
    sameCache: true,
  }),
  // After warm-up every read here is an L1 hit: the same cache serves both larder rows.
  ...readCases({ op: L1_GET, untagged: (c) => c.l1, peer: (c) => c.bentoL1, keys: SMALL }),
  // Here the L1s hold only the hot part of the key set (the rest are L2 reads): tagged rows read
  // through L1s of their own, so no row evicts another's entries.
  ...readCases({
    op: L1_GET_ZIPF,
    untagged: (c) => c.l1,
    tagging: (c) => c.l1Tagged,
    peer: (c) => c.bentoL1,
    peerTagged: (c) => c.bentoL1Tagged,
    keys: ZIPF,
  }),
  ...setCases(SET, SMALL, 1),
  ...setCases(SET_64, SMALL, 64),
  ...setCases(SET_50, SMALL, 50),
  ...setCases(SET_ZIPF, ZIPF, 1),
  {
    // Each round: tag one key, fill every instance's L1, invalidate the tag (hard: resolves once
    // every instance dropped its copy), so each call really has copies to drop everywhere.
    op: INVALIDATE,
    subject: 'larder invalidateTags (hard)',
    run: async (c, i) => {
      const tag = `inv:${i}`;
      await c.fleet[0]?.tags([tag]).set(`inv${i % KEYS}`, VALUE, TTL);
      await Promise.all(c.fleet.map((f) => f.get(`inv${i % KEYS}`)));
      await timed(c, 'larder invalidateTags (hard)', () => (c.fleet[i % INSTANCES] as Cache).invalidateTags([tag]));
    },
  },
  {
    op: INVALIDATE,
    subject: 'bentocache deleteByTag (bus)',
    run: async (c, i) => {
      const tag = `inv:${i}`;
      await c.bentoFleet[0]?.set({ key: `inv${i % KEYS}`, value: VALUE, ttl: TTL, tags: [tag] });
      await Promise.all(c.bentoFleet.map((b) => b.get({ key: `inv${i % KEYS}` })));
      await timed(c, 'bentocache deleteByTag (bus)', () =>
        (c.bentoFleet[i % INSTANCES] as Bento).deleteByTag({ tags: [tag] }),
      );
    },
  },
];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

const notes = [
  `${KEYS.toLocaleString('en')} keys of a ~200-byte JSON value read uniformly, and (the Zipf rows) ${ZIPF_KEYS.toLocaleString('en')} keys read with a Zipf skew (s = 1, key order precomputed); L1s hold ${L1_ENTRIES.toLocaleString('en')} entries. Tagged entries carry 3 tags (products, category:<n mod 20>, product:<n mod 1,000>); one redis-server on loopback. larder: the Cache facade over the Redis driver (L1: CLIENT TRACKING); bentocache 1.6.0: redis driver (L1: memory driver), its tags are invalidation timestamps checked on read. The floor rows are what any design that checks 3 counters in the same round trip costs the client and server at least, with no logic. The floor under larder's own tagged write is raw ioredis sending the Redis driver's SET_TAGGED script with larder's arguments (built by the row: no facade, no driver, nothing parsed): what the stored format (the tag section written with the counters' versions) costs at least; a tagged set's distance from it is larder's client work. "larder (untagged)" is a cache that never used tags (plain GET/SET); once a Redis cache has used tags, a key whose tagged entry it wrote or read lately (or any key, when most entries it finds are tagged) is read through one script (GET, and MGET of the counters a tagged entry names), other keys with a plain GET: the "untagged, cache that uses tags" row. A tagged set is one script (the counters read, missing ones made, the entry written with their versions).`,
  `The set ×50 rows (no target) run the set ×64 rows' cases at 50 in flight: tagged writes join into batches by what is outstanding, and 50 is no multiple of a batch (before batches took half of the writes outstanding, 50 in flight made convoys of 32, 17 and 1 and ran 0.36–0.43× untagged).`,
  `The invalidation rows time a whole round (tag and write one key, every instance reads it, invalidate); the latency of the invalidation call alone is below. larder's hard invalidateTags resolves once every instance has dropped its copies (or stopped serving its L1); bentocache's deleteByTag resolves after its write and bus publish (its instances learn later, and only soft).`,
];

export const scenario: Scenario<Ctx> = {
  name: 'tags',
  description: `Tagged vs untagged get and set on Redis (L2 only and with the L1), and invalidating a tag to the last of ${INSTANCES} instances, larder against bentocache's tags on one redis-server on loopback.`,
  baseline: LARDER,
  setup: setupTags,
  cases,
  counters: [redisCommandsColumn(), redisCpuColumn()],
  targets: [
    { op: L2_GET, subject: LARDER_TAGGED, over: LARDER, atLeast: 0.9 },
    { op: L2_GET_ZIPF, subject: LARDER_TAGGED, over: LARDER, atLeast: 0.9 },
    { op: L2_GET, subject: LARDER_SAME_CACHE, over: LARDER, atLeast: 0.95 },
    { op: L2_GET_ZIPF, subject: LARDER_SAME_CACHE, over: LARDER, atLeast: 0.95 },
    { op: SET, subject: LARDER_TAGGED, over: LARDER, atLeast: 0.7 },
    { op: SET_64, subject: LARDER_TAGGED, over: LARDER, atLeast: 0.7 },
    { op: SET_ZIPF, subject: LARDER_TAGGED, over: LARDER, atLeast: 0.7 },
    ...[SET, SET_64, SET_ZIPF].map((op) => ({ op, subject: LARDER_L1_TAGGED, over: LARDER_L1, atLeast: 0.7 })),
  ],
  notes,
  async teardown(c) {
    for (const [subject, list] of c.latencies) {
      const sorted = [...list].sort((a, b) => a - b);
      const p50 = percentile(sorted, 0.5)?.toFixed(2);
      const p99 = percentile(sorted, 0.99)?.toFixed(2);
      notes.push(`${subject}: call latency p50 ${p50} ms, p99 ${p99} ms over ${sorted.length} calls.`);
    }
    for (const close of c.closers) await close().catch(() => undefined);
    await c.server.stop();
  },
};
