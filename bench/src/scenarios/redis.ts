/**
 * Redis: larder (through the `Cache` facade) against raw ioredis, keyv + @keyv/redis,
 * cache-manager 7 (over keyv) and bentocache (L2 only), on one redis-server started here.
 */
import KeyvRedis from '@keyv/redis';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore, type RedisStore } from '@larder/redis';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { Redis } from 'ioredis';
import Keyv from 'keyv';
import type { BenchCase, Scenario } from '../harness';
import { redisCommandsColumn, redisCpuColumn } from '../redis-counters';
import { corkPerTurn, type NodeRedisClient, nodeRedis } from '../redis-floors';
import { type KeySet, VALUE, WRITE_KEY_SETS } from '../workload';

const KEYS = 1000;
/** Rows of the driver alone: the store called directly, each value encoded or decoded with JSON as raw ioredis does. */
const DRIVER = 'larder store alone (no facade)';
const MANY = 100;
/** The uniform large key set (the L1 rows over it are in two-tiers.ts). */
const LARGE_KEYS = 100_000;

interface Ctx {
  server: RedisServer;
  larder: Cache;
  /** The store under `larder`, called directly (the driver without the facade). */
  store: RedisStore;
  larderNoBatch: Cache;
  larderAutoPipe: Cache;
  larderBoth: Cache;
  raw: Redis;
  rawAuto: Redis;
  /** Raw ioredis whose socket `corkRaw` corks for the rest of the turn (a floor row). */
  rawCorked: Redis;
  corkRaw: () => void;
  /** node-redis 5, raw (a floor row). */
  nodeRedis: NodeRedisClient;
  stats: Redis;
  keyv: Keyv;
  cacheManager: ReturnType<typeof createCache>;
  bento: BentoCache<{ redis: ReturnType<ReturnType<typeof bentostore>['useL2Layer']> }>;
  closers: (() => Promise<unknown>)[];
}

const key = (i: number) => `k${i % KEYS}`;
/**
 * The JSON of a payload the facade wrote: after its entry metadata header
 * (`\u0001<written>,<expiry>\u0001`, core's entry-meta.ts) when it has one, so the driver rows
 * decode what the facade stored as raw ioredis decodes its own JSON.
 */
const json = (payload: string) =>
  JSON.parse(payload.charCodeAt(0) === 1 ? payload.slice(payload.indexOf('\u0001', 1) + 1) : payload);
const largeKey = (i: number) => `u${i}`;
/** A uniformly random key of the large set (the iteration number would walk it in order). */
const randomLarge = () => largeKey(Math.floor(Math.random() * LARGE_KEYS));

async function setup(): Promise<Ctx> {
  const server = await startRedis();
  const closers: (() => Promise<unknown>)[] = [];
  const larderStore = createRedisStore({ url: server.url });
  const noBatchStore = createRedisStore({ url: server.url, batchGets: false });
  const autoPipeStore = createRedisStore({ url: server.url, batchGets: false, autoPipelining: true });
  const bothStore = createRedisStore({ url: server.url, autoPipelining: true });
  closers.push(
    () => bothStore.close(),
    () => larderStore.close(),
    () => noBatchStore.close(),
    () => autoPipeStore.close(),
  );
  const larder = new Cache({ store: larderStore, prefix: 'larder:' });
  const larderNoBatch = new Cache({ store: noBatchStore, prefix: 'larder:' });
  const larderAutoPipe = new Cache({ store: autoPipeStore, prefix: 'larder:' });
  const larderBoth = new Cache({ store: bothStore, prefix: 'larder:' });
  const raw = new Redis(server.url);
  const rawAuto = new Redis(server.url, { enableAutoPipelining: true });
  const stats = new Redis(server.url);
  const rawCorked = new Redis(server.url);
  const nodeRedisClient = await nodeRedis(server.url);
  closers.push(
    () => rawCorked.quit(),
    () => nodeRedisClient.close(),
    () => raw.quit(),
    () => rawAuto.quit(),
    () => stats.quit(),
  );
  const keyv = new Keyv({ store: new KeyvRedis(server.url), namespace: 'keyv' });
  const cmKeyv = new Keyv({ store: new KeyvRedis(server.url), namespace: 'cm' });
  const cacheManager = createCache({ stores: [cmKeyv] });
  closers.push(
    () => keyv.disconnect(),
    () => cacheManager.disconnect(),
  );
  const bento = new BentoCache({
    default: 'redis',
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: { host: server.host, port: server.port } })) },
  });
  closers.push(() => bento.disconnectAll());

  const json = JSON.stringify(VALUE);
  const pipeline = raw.pipeline();
  for (let i = 0; i < KEYS; i++) pipeline.set(`raw:${key(i)}`, json);
  await pipeline.exec();
  await larder.setMany(Array.from({ length: KEYS }, (_, i) => [key(i), VALUE] as const));
  for (let start = 0; start < KEYS; start += 100) {
    const batch = Array.from({ length: 100 }, (_, j) => key(start + j));
    await Promise.all(batch.map((k) => keyv.set(k, VALUE)));
    await Promise.all(batch.map((k) => cacheManager.set(k, VALUE)));
    await Promise.all(batch.map((k) => bento.set({ key: k, value: VALUE })));
  }
  // The large key set, written raw in the facade's format (prefix + JSON), for larder and raw ioredis.
  for (let start = 0; start < LARGE_KEYS; start += 10_000) {
    const fill = raw.pipeline();
    for (let i = start; i < start + 10_000; i++)
      fill.set(`larder:${largeKey(i)}`, json).set(`raw:${largeKey(i)}`, json);
    await fill.exec();
  }
  return {
    server,
    larder,
    store: larderStore,
    larderNoBatch,
    larderAutoPipe,
    larderBoth,
    raw,
    rawAuto,
    rawCorked,
    corkRaw: corkPerTurn(rawCorked),
    nodeRedis: nodeRedisClient,
    stats,
    keyv,
    cacheManager,
    bento,
    closers,
  };
}

function getCases(concurrency: number): BenchCase<Ctx>[] {
  const op = `get (hit) ×${concurrency}`;
  return [
    { op, subject: 'larder', concurrency, run: (c, i) => c.larder.get(key(i)) },
    ...(concurrency === 1
      ? [
          {
            op,
            subject: DRIVER,
            concurrency,
            run: async (c: Ctx, i: number) => {
              const payload = await c.store.get(`larder:${key(i)}`);
              return payload === undefined ? undefined : json(payload as string);
            },
          },
        ]
      : []),
    { op, subject: 'larder (no batching)', concurrency, run: (c, i) => c.larderNoBatch.get(key(i)) },
    { op, subject: 'larder (auto-pipelining, no batching)', concurrency, run: (c, i) => c.larderAutoPipe.get(key(i)) },
    { op, subject: 'larder (batching + auto-pipelining)', concurrency, run: (c, i) => c.larderBoth.get(key(i)) },
    {
      op,
      subject: 'raw ioredis',
      concurrency,
      run: async (c, i) => JSON.parse((await c.raw.get(`raw:${key(i)}`)) as string),
    },
    {
      op,
      subject: 'raw ioredis (auto-pipelining)',
      concurrency,
      run: async (c, i) => JSON.parse((await c.rawAuto.get(`raw:${key(i)}`)) as string),
    },
    { op, subject: 'keyv + @keyv/redis', concurrency, run: (c, i) => c.keyv.get(key(i)) },
    { op, subject: 'cache-manager 7', concurrency, run: (c, i) => c.cacheManager.get(key(i)) },
    { op, subject: 'bentocache (L2 only)', concurrency, run: (c, i) => c.bento.get({ key: key(i) }) },
  ];
}

/** Floor rows of the SET and getMany rows (see redis-floors.ts). */
const RAW_CORKED = 'floor: raw ioredis, socket corked per turn';
const NODE_REDIS = 'floor: node-redis 5 raw';
/** The name of key `n` of `set` (both sizes are filled at setup, under `larder:` and `raw:`). */
const keyName = (set: KeySet, n: number) => (set.count === KEYS ? key(n) : largeKey(n));
const setOp = (concurrency: number, set: KeySet) => `set ×${concurrency} · ${set.label}`;
const manyOp = (set: KeySet) => `getMany(${MANY}) · ${set.label}`;

/** SET of the ~200-byte JSON value (encoded by each subject) with `concurrency` in flight, over `set`. */
function setCases(concurrency: number, set: KeySet): BenchCase<Ctx>[] {
  const op = setOp(concurrency, set);
  const name = (i: number) => keyName(set, set.index(i));
  return [
    { op, subject: 'larder', concurrency, run: (c, i) => c.larder.set(name(i), VALUE) },
    ...(concurrency === 1
      ? [
          {
            op,
            subject: DRIVER,
            concurrency,
            run: (c: Ctx, i: number) => c.store.set(`larder:${name(i)}`, JSON.stringify(VALUE), undefined),
          },
        ]
      : []),
    { op, subject: 'raw ioredis', concurrency, run: (c, i) => c.raw.set(`raw:${name(i)}`, JSON.stringify(VALUE)) },
    {
      op,
      subject: RAW_CORKED,
      concurrency,
      run: (c, i) => {
        c.corkRaw();
        return c.rawCorked.set(`raw:${name(i)}`, JSON.stringify(VALUE));
      },
    },
    { op, subject: NODE_REDIS, concurrency, run: (c, i) => c.nodeRedis.set(`raw:${name(i)}`, JSON.stringify(VALUE)) },
  ];
}

const decode = (v: string | null) => (v === null ? undefined : JSON.parse(v));

/** getMany of 100 keys of `set` (each value decoded), one at a time. */
function getManyCases(set: KeySet): BenchCase<Ctx>[] {
  const op = manyOp(set);
  const names = (i: number) => Array.from({ length: MANY }, (_, j) => keyName(set, set.index(i * MANY + j)));
  const raw = (i: number) => names(i).map((k) => `raw:${k}`);
  return [
    { op, subject: 'larder', run: (c, i) => c.larder.getMany(names(i)) },
    {
      op,
      subject: DRIVER,
      run: async (c, i) =>
        (await c.store.getMany(names(i).map((k) => `larder:${k}`))).map((v) =>
          v === undefined ? undefined : json(v as string),
        ),
    },
    { op, subject: 'raw ioredis', run: async (c, i) => (await c.raw.mget(raw(i))).map(decode) },
    {
      op,
      subject: RAW_CORKED,
      run: async (c, i) => {
        c.corkRaw();
        return (await c.rawCorked.mget(raw(i))).map(decode);
      },
    },
    { op, subject: NODE_REDIS, run: async (c, i) => (await c.nodeRedis.mGet(raw(i))).map(decode) },
    // The peers' entries exist on the small key set only.
    ...(set.count === KEYS
      ? [
          { op, subject: 'keyv + @keyv/redis', run: (c: Ctx, i: number) => c.keyv.getMany(names(i)) },
          { op, subject: 'cache-manager 7', run: (c: Ctx, i: number) => c.cacheManager.mget(names(i)) },
        ]
      : []),
  ];
}

const uniform = `get, uniform ${LARGE_KEYS.toLocaleString('en')} keys ×1`;

/** The Redis scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'redis',
  description:
    'GET and SET of a ~200-byte JSON value (decoded) at 1 and 64 in flight, and getMany(100), one redis-server on loopback; larder through the Cache facade.',
  baseline: 'raw ioredis',
  setup,
  cases: [
    ...getCases(1),
    ...getCases(64),
    {
      op: uniform,
      subject: 'raw ioredis',
      run: async (c) => JSON.parse((await c.raw.get(`raw:${randomLarge()}`)) as string),
    },
    { op: uniform, subject: 'larder', run: (c) => c.larder.get(randomLarge()) },
    ...WRITE_KEY_SETS.flatMap((set) => [...setCases(1, set), ...setCases(64, set), ...getManyCases(set)]),
  ],
  counters: [
    {
      // CPU time is what a busy (shared) machine cannot steal from a measurement: µs of this
      // process and of redis-server per operation, next to the wall-clock ops/s.
      name: 'client CPU µs/op',
      read: () => {
        const usage = process.cpuUsage();
        return usage.user + usage.system;
      },
      digits: 1,
    },
    redisCpuColumn(),
    redisCommandsColumn(),
  ],
  targets: [
    { op: 'get (hit) ×64', subject: 'larder', over: 'raw ioredis', atLeast: 1.5 },
    { op: 'get (hit) ×64', subject: 'larder', over: 'keyv + @keyv/redis', atLeast: 1.2 },
    { op: 'get (hit) ×1', subject: 'larder', over: 'raw ioredis', atLeast: 0.95 },
    // The write path's targets (issue 38), on every key set.
    ...WRITE_KEY_SETS.flatMap((set) => [
      { op: setOp(1, set), subject: 'larder', over: 'raw ioredis', atLeast: 0.9 },
      { op: setOp(64, set), subject: 'larder', over: 'raw ioredis', atLeast: 1.2 },
      { op: manyOp(set), subject: 'larder', over: 'raw ioredis', atLeast: 0.9 },
    ]),
  ],
  notes: [
    'Every subject decodes the value (raw ioredis: JSON.parse), so the comparison is what an app sees.',
    `"${DRIVER}" calls the Redis store under the larder row directly (JSON.stringify / JSON.parse as raw ioredis does): the driver's share; larder minus that row is the Cache facade's.`,
    'larder batches GETs issued in the same tick into one MGET while a read is in flight (batchGets, the default); the other larder rows are the alternatives measured (no batching; ioredis auto-pipelining; both).',
    'Redis commands/op counts every command the server processed during the case, divided by operations.',
    'CPU columns: user+system CPU of the bench process and of redis-server during the case, per operation (robust when the machine is shared; ops/s is not).',
    `SET and getMany rows run on four key sets: ${WRITE_KEY_SETS.map((s) => s.label).join(', ')} (a fixed random order each, the same for every subject; Zipf s = 1). Their floor rows: "${RAW_CORKED}" (the first command of a turn corks the socket, a setImmediate uncorks it: one write per turn, as node-redis 5 does) and "${NODE_REDIS}" (redis 5.9.0, RESP2). keyv and cache-manager getMany rows only on the 1,000-key sets (their entries exist there only).`,
    `The uniform rows read ${LARGE_KEYS.toLocaleString('en')} keys at random. L1 rows (larder's L1, bentocache's memory tier, cacheable) are in the two-tiers scenario.`,
    'Versions: ioredis 6.0.0, keyv 5.6.0 + @keyv/redis 5.1.6, cache-manager 7.2.9, bentocache 1.6.0, redis-server 7.0.15.',
  ],
  async teardown(c) {
    for (const close of c.closers) await close().catch(() => undefined);
    await c.server.stop();
  },
};
