/**
 * Two tiers: larder's L1 (kept coherent by Redis CLIENT TRACKING) against bentocache's memory tier
 * and cacheable's in-memory primary, each over Redis, plus raw ioredis; the SET cost of tracking;
 * and the invalidation delay between two larder instances next to the Redis floors (a raw tracking
 * redirect, a raw pub/sub round trip).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import KeyvRedis from '@keyv/redis';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { Cacheable } from 'cacheable';
import { Redis } from 'ioredis';
import type { BenchCase, Scenario } from '../harness';
import { redisCommandsColumn, redisCpuColumn } from '../redis-counters';
import { Arrivals, type PeerMessage, recordInvalidations, waitUp } from '../two-tiers-peer';
import { VALUE } from '../workload';

const KEYS = 1000;
/** The uniform large key set: 10× the L1's entries, so about 1 read in 10 can hit. */
const LARGE_KEYS = 100_000;
const L1_ENTRIES = 10_000;
/** Keys the invalidation-delay cases cycle through. */
const DELAY_KEYS = 100;

const L1 = 'larder + L1 (tracking)';
const NO_L1 = 'larder (no L1)';
const BENTO = 'bentocache (memory tier + L2, no bus)';
const CACHEABLE = 'cacheable (memory primary + @keyv/redis secondary)';
const RAW = 'raw ioredis';
const RAW_TRACKING = 'floor: raw ioredis SET → CLIENT TRACKING BCAST redirect';
const RAW_PUBSUB = 'floor: raw ioredis PUBLISH → subscriber';
const DELAY = 'invalidation delay (write → other instance)';
const XDELAY = 'invalidation delay, other instance in another process';
/** The delay cases (op, subject), in table order. */
const DELAY_CASES = [
  [DELAY, L1],
  [DELAY, RAW_TRACKING],
  [DELAY, RAW_PUBSUB],
  [XDELAY, L1],
  [XDELAY, RAW_TRACKING],
  [XDELAY, RAW_PUBSUB],
] as const;
const PEER = fileURLToPath(new URL('../two-tiers-peer.ts', import.meta.url));

interface Ctx {
  server: RedisServer;
  raw: Redis;
  stats: Redis;
  /** Hot and uniform reads, SET with tracking (prefix `larder:`). */
  l1: Cache;
  /** The same keys, no L1. */
  plain: Cache;
  /** SET with L1 off, under a prefix no tracker watches. */
  plainWriter: Cache;
  /** The invalidation-delay pair (prefix `delay:`): `writer` writes, `peer`'s L1 drops. */
  writer: Cache;
  peer: Cache;
  bento: BentoCache<{ tiered: ReturnType<ReturnType<typeof bentostore>['useL2Layer']> }>;
  cacheable: Cacheable;
  /** Publisher of the pub/sub floor. */
  pub: Redis;
  /** The delays of each delay case, by `op|subject`. */
  arrivals: Map<string, Arrivals>;
  /** The other-process pair: `xwriter` here (prefix `xdelay:`), the peer process (two-tiers-peer.ts). */
  xwriter: Cache;
  child: ChildProcess;
  /** Has the peer process read `key` (into its L1); resolves on its answer. */
  peerGet(key: string): Promise<void>;
  closers: (() => Promise<unknown>)[];
}

const key = (i: number) => `k${i % KEYS}`;
const setKey = (i: number) => `s${i % KEYS}`;
const delayKey = (i: number) => `d${i % DELAY_KEYS}`;
/** A uniformly random key of the large set (the iteration number would walk it in order). */
const randomLarge = () => `u${Math.floor(Math.random() * LARGE_KEYS)}`;

async function setup(): Promise<Ctx> {
  const server = await startRedis();
  const closers: (() => Promise<unknown>)[] = [];
  const arrivals = new Map(DELAY_CASES.map(([op, subject]) => [`${op}|${subject}`, new Arrivals()]));
  const arrive = (op: string, subject: string, keys: readonly string[], at?: number) =>
    arrivals.get(`${op}|${subject}`)?.arrive(keys, at);
  const l1Options = { invalidation: 'tracking', maxEntries: L1_ENTRIES } as const;
  const l1 = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'larder:', l1: l1Options });
  const plain = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'larder:' });
  const plainWriter = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'plain:' });
  const writer = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'delay:', l1: l1Options });
  const peerStore = recordInvalidations(createRedisStore({ url: server.url }), (keys) => arrive(DELAY, L1, keys));
  const peer = new Cache({ store: peerStore, prefix: 'delay:', l1: l1Options });
  for (const cache of [l1, plain, plainWriter, writer, peer]) closers.push(() => cache.close());

  const raw = new Redis(server.url);
  const stats = new Redis(server.url);
  // The floors: Redis's own tracking (a tracker redirecting to a subscriber, BCAST on `rawt:`; RESP2
  // as in the tracking link) and a plain pub/sub message between two connections.
  const tracker = new Redis(server.url, { protocol: 2 });
  const trackSub = new Redis(server.url, { protocol: 2 });
  const pub = new Redis(server.url);
  const sub = new Redis(server.url);
  for (const client of [raw, stats, tracker, trackSub, pub, sub]) closers.push(() => client.quit());
  const subId = (await trackSub.client('ID')) as number;
  await trackSub.subscribe('__redis__:invalidate');
  trackSub.on('messageBuffer', (_channel: Buffer, message: unknown) =>
    arrive(DELAY, RAW_TRACKING, Array.isArray(message) ? message.map(String) : [String(message)]),
  );
  await tracker.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(subId), 'BCAST', 'PREFIX', 'rawt:');
  await sub.subscribe('floor');
  sub.on('message', (_channel: string, message: string) => arrive(DELAY, RAW_PUBSUB, [message]));

  const bento = new BentoCache({
    default: 'tiered',
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: L1_ENTRIES }))
        .useL2Layer(redisDriver({ connection: { host: server.host, port: server.port } })),
    },
  });
  closers.push(() => bento.disconnectAll());
  // As cacheable's README sets it up: the default in-memory primary, @keyv/redis as the secondary.
  const cacheable = new Cacheable({ secondary: new KeyvRedis(server.url) });
  closers.push(() => cacheable.disconnect());

  const json = JSON.stringify(VALUE);
  await plain.setMany(Array.from({ length: KEYS }, (_, i) => [key(i), VALUE] as const));
  for (let start = 0; start < KEYS; start += 100) {
    const batch = Array.from({ length: 100 }, (_, j) => key(start + j));
    await Promise.all(batch.map((k) => bento.set({ key: k, value: VALUE })));
    await Promise.all(batch.map((k) => cacheable.set(k, VALUE)));
  }
  // The hot keys raw, and the large key set in the facade's format (prefix + JSON) and raw.
  const fill = raw.pipeline();
  for (let i = 0; i < KEYS; i++) fill.set(`raw:${key(i)}`, json);
  await fill.exec();
  for (let start = 0; start < LARGE_KEYS; start += 10_000) {
    const batch = raw.pipeline();
    for (let i = start; i < start + 10_000; i++) batch.set(`larder:u${i}`, json).set(`raw:u${i}`, json);
    await batch.exec();
  }
  // The peer in another process; its arrival times are wall times, converted to this process's clock.
  const xwriter = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'xdelay:', l1: l1Options });
  closers.push(() => xwriter.close());
  const child = fork(PEER, [server.url], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the peer process exited with ${code}`)));
    child.on('message', (message: PeerMessage) => message === 'ready' && resolve());
  });
  let answered: ((key: string) => void) | undefined;
  child.on('message', (message: PeerMessage) => {
    if (typeof message !== 'object') return;
    if ('got' in message) answered?.(message.got);
    else
      for (const subject of [L1, RAW_TRACKING, RAW_PUBSUB])
        arrive(XDELAY, subject, message.keys, message.at - performance.timeOrigin);
  });
  const peerGet = (key: string) =>
    new Promise<void>((resolve) => {
      answered = (got) => got === key && resolve();
      child.send({ get: key });
    });
  await ready;
  for (const cache of [l1, writer, peer, xwriter]) await waitUp(cache);
  return {
    ...{ server, raw, stats, l1, plain, plainWriter, writer, peer, bento, cacheable, pub, arrivals, closers },
    ...{ xwriter, child, peerGet },
  };
}

function hitCases(concurrency: number): BenchCase<Ctx>[] {
  const op = `get (hit) ×${concurrency}`;
  return [
    {
      op,
      subject: RAW,
      concurrency,
      run: async (c, i) => JSON.parse((await c.raw.get(`raw:${key(i)}`)) as string),
    },
    { op, subject: NO_L1, concurrency, run: (c, i) => c.plain.get(key(i)) },
    { op, subject: L1, concurrency, run: (c, i) => c.l1.get(key(i)) },
    { op, subject: BENTO, concurrency, run: (c, i) => c.bento.get({ key: key(i) }) },
    { op, subject: CACHEABLE, concurrency, run: (c, i) => c.cacheable.get(key(i)) },
  ];
}

const SET = 'set ×1';
const UNIFORM = `get, uniform ${LARGE_KEYS.toLocaleString('en')} keys ×1`;

const delayOf = (c: Ctx, op: string, subject: string) => c.arrivals.get(`${op}|${subject}`) as Arrivals;

const delayCases: BenchCase<Ctx>[] = [
  {
    op: DELAY,
    subject: L1,
    // The peer holds the key in its L1 (a read, filled from Redis), then the writer instance sets it.
    run: async (c, i) => {
      const k = delayKey(i);
      await c.peer.get(k);
      await delayOf(c, DELAY, L1).around(`delay:${k}`, () => c.writer.set(k, i));
    },
  },
  {
    op: DELAY,
    subject: RAW_TRACKING,
    run: (c, i) =>
      delayOf(c, DELAY, RAW_TRACKING).around(`rawt:${delayKey(i)}`, () => c.raw.set(`rawt:${delayKey(i)}`, i)),
  },
  {
    op: DELAY,
    subject: RAW_PUBSUB,
    run: (c, i) => delayOf(c, DELAY, RAW_PUBSUB).around(delayKey(i), () => c.pub.publish('floor', delayKey(i))),
  },
  {
    op: XDELAY,
    subject: L1,
    run: async (c, i) => {
      const k = delayKey(i);
      await c.peerGet(k);
      await delayOf(c, XDELAY, L1).around(`xdelay:${k}`, () => c.xwriter.set(k, i));
    },
  },
  {
    op: XDELAY,
    subject: RAW_TRACKING,
    run: (c, i) =>
      delayOf(c, XDELAY, RAW_TRACKING).around(`xrawt:${delayKey(i)}`, () => c.raw.set(`xrawt:${delayKey(i)}`, i)),
  },
  {
    op: XDELAY,
    subject: RAW_PUBSUB,
    run: (c, i) => delayOf(c, XDELAY, RAW_PUBSUB).around(`x${i}`, () => c.pub.publish('xfloor', `x${i}`)),
  },
];

/** Client CPU per case inside measured rounds, and operations counted by the SET cases. */
const cpu = new Map<string, { us: number; ops: number; at?: number; opsAt?: number }>();
const setOps = new Map<string, number>();
const countSet = (subject: string) => setOps.set(subject, (setOps.get(subject) ?? 0) + 1);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** The p50/p99 rows of the delay cases, the 2 ms target, and the SET cost in client CPU. */
function measuredNotes(): string[] {
  const lines: string[] = [];
  for (const [op, subject] of DELAY_CASES) {
    const arrivals = delayArrivals?.get(`${op}|${subject}`);
    const sorted = [...(arrivals?.measured ?? [])].sort((a, b) => a - b);
    if (sorted.length === 0) continue;
    const ms = (v: number) => `${v.toFixed(3)} ms`;
    lines.push(
      `${op === DELAY ? 'invalidation delay' : XDELAY}, ${subject}: **p50 ${ms(percentile(sorted, 0.5))}, p99 ${ms(percentile(sorted, 0.99))}**, max ${ms(sorted[sorted.length - 1] as number)} (n=${sorted.length}, measured rounds)`,
    );
    if (subject === L1) {
      const p99 = percentile(sorted, 0.99);
      const where = op === DELAY ? 'same process' : 'another process';
      lines.push(
        `target invalidation delay p99 ≤ 2 ms (${L1}, ${where}): **${ms(p99)}** ${p99 <= 2 ? 'met' : 'MISSED'}`,
      );
    }
  }
  const on = cpu.get(`${SET}|${L1}`);
  const off = cpu.get(`${SET}|${NO_L1}`);
  if (on?.ops && off?.ops) {
    const a = on.us / on.ops;
    const b = off.us / off.ops;
    const verdict = a <= b * 1.1 ? 'met' : 'MISSED';
    lines.push(
      `target SET with tracking ≤ 10% slower than L1 off, in client CPU: **${a.toFixed(1)} vs ${b.toFixed(1)} µs/op (${((a / b - 1) * 100).toFixed(1)}%)** ${verdict}`,
    );
  }
  return lines;
}

let delayArrivals: Ctx['arrivals'] | undefined;

const STATIC_NOTES = [
  `Hot rows: 1,000 keys of a ~200-byte JSON value, every subject decodes it (raw ioredis: JSON.parse); after warm-up every read of a two-tier subject is a memory hit. larder's L1 keeps payloads, then decoded copies from an entry's second hit, and copies out on each hit; bentocache ${BENTO.replace('bentocache ', '')} has no bus here, cacheable no sync: neither is kept coherent across instances in this run (larder's is, by CLIENT TRACKING BCAST).`,
  `Uniform rows: ${LARGE_KEYS.toLocaleString('en')} keys read at random through an L1 of ${L1_ENTRIES.toLocaleString('en')} entries: about 1 read in 10 hits, the rest pay the L2 read plus the L1 bookkeeping.`,
  `SET rows: ${L1} writes keys its L1s watch (tracking is on its own command connection with BCAST and NOLOOP: the server sends it no invalidation of its own writes, the store hands their keys to its L1s in process); ${NO_L1} writes under a prefix nobody tracks. Client and Redis CPU per operation are the columns to read on a shared machine.`,
  `Invalidation delay: from the call of the write to the moment the other instance's L1 dropped the key (its source handed the key to the L1), both instances in this process; the floors are the same measurement with raw connections (a SET seen by a raw CLIENT TRACKING BCAST redirect; a PUBLISH seen by a raw subscriber). The "another process" rows fork the peer (src/two-tiers-peer.ts), which stamps arrivals in wall time (performance.timeOrigin + now). Each larder operation also re-reads the key into the peer's L1 first (over IPC for the other process), so the ops/s of the delay rows are not comparable; the delays are.`,
  'Versions: ioredis 6.0.0, bentocache 1.6.0, cacheable 2.5.0 + keyv 5.6.0 + @keyv/redis 5.1.6, redis-server 7.0.15.',
];

/** The two-tiers scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'two-tiers',
  description:
    "larder's L1 (Redis CLIENT TRACKING) against bentocache's memory tier and cacheable's in-memory primary over Redis, raw ioredis, the SET cost of tracking and the invalidation delay; one redis-server on loopback.",
  baseline: RAW,
  async setup() {
    const ctx = await setup();
    delayArrivals = ctx.arrivals;
    return ctx;
  },
  cases: [
    ...hitCases(1),
    ...hitCases(64),
    { op: SET, subject: RAW, run: (c, i) => c.raw.set(`raw:${setKey(i)}`, JSON.stringify(VALUE)) },
    {
      op: SET,
      subject: NO_L1,
      run: (c, i) => {
        countSet(NO_L1);
        return c.plainWriter.set(setKey(i), VALUE);
      },
    },
    {
      op: SET,
      subject: L1,
      run: (c, i) => {
        countSet(L1);
        return c.l1.set(setKey(i), VALUE);
      },
    },
    { op: UNIFORM, subject: RAW, run: async (c) => JSON.parse((await c.raw.get(`raw:${randomLarge()}`)) as string) },
    { op: UNIFORM, subject: NO_L1, run: (c) => c.plain.get(randomLarge()) },
    {
      op: UNIFORM,
      subject: `larder + L1 (tracking, ${L1_ENTRIES.toLocaleString('en')} entries)`,
      run: (c) => c.l1.get(randomLarge()),
    },
    ...delayCases,
  ],
  counters: [
    {
      // CPU time is what a busy (shared) machine cannot steal from a measurement.
      name: 'client CPU µs/op',
      read: (c, benchCase) => {
        const usage = process.cpuUsage();
        const now = usage.user + usage.system;
        c.arrivals.get(`${benchCase.op}|${benchCase.subject}`)?.mark();
        if (benchCase.op === SET && benchCase.subject !== RAW) {
          const id = `${SET}|${benchCase.subject}`;
          const acc = cpu.get(id) ?? { us: 0, ops: 0 };
          const ops = setOps.get(benchCase.subject) ?? 0;
          if (acc.at === undefined) cpu.set(id, { ...acc, at: now, opsAt: ops });
          else cpu.set(id, { us: acc.us + now - acc.at, ops: acc.ops + ops - (acc.opsAt as number) });
        }
        return now;
      },
      digits: 1,
    },
    redisCpuColumn(),
    redisCommandsColumn(),
  ],
  targets: [
    { op: 'get (hit) ×1', subject: L1, over: BENTO, atLeast: 3 },
    { op: 'get (hit) ×1', subject: L1, over: CACHEABLE, atLeast: 3 },
    { op: 'get (hit) ×64', subject: L1, over: BENTO, atLeast: 3 },
    { op: 'get (hit) ×64', subject: L1, over: CACHEABLE, atLeast: 3 },
    { op: 'get (hit) ×1', subject: L1, over: RAW, atLeast: 20 },
    { op: SET, subject: L1, over: NO_L1, atLeast: 0.9 },
  ],
  get notes() {
    return [...STATIC_NOTES, ...measuredNotes()];
  },
  async teardown(c) {
    c.child.kill(); // the peer process this scenario forked (by its PID)
    for (const close of c.closers) await close().catch(() => undefined);
    await c.server.stop();
  },
};
