/**
 * Memcached: larder (through the `Cache` facade, ketama ring over 3 nodes) against raw memjs
 * (one Client over the same 3 nodes, its default modulo hashing) and keyv + @keyv/memcache
 * (memjs underneath), on three memcached processes started here.
 */
import { createRequire } from 'node:module';
import KeyvMemcache from '@keyv/memcache';
import { Cache } from '@larder/core';
import { type MemcachedCluster, type RedisServer, startMemcached, startRedis } from '@larder/dev-services';
import { createMemcachedStore, type MemcachedStore } from '@larder/memcached';
import Keyv from 'keyv';
import type { BenchCase, Scenario } from '../harness';
import { MemcachedFloor } from '../memcached-floor';
import { type KeySet, VALUE, WRITE_KEY_SETS } from '../workload';

// The bench package has no @types/memjs: the little of memjs used here, typed locally.
interface MemjsServer {
  write(blob: Buffer): void;
}
interface MemjsClient {
  servers: MemjsServer[];
  get(key: string): Promise<{ value: Buffer | null }>;
  set(key: string, value: string, options: { expires?: number }): Promise<boolean>;
  close(): void;
}
const memjs = createRequire(import.meta.url)('memjs') as {
  Client: { create(servers: string, options: Record<string, unknown>): MemjsClient };
};

const KEYS = 1000;
const MANY = 100;
const setOp = (concurrency: number, set: KeySet) => `set ×${concurrency} · ${set.label}`;

const JSON_VALUE = JSON.stringify(VALUE);

const LARDER = 'larder';
/** The same with an L1 whose invalidations go over a Redis bus (memcached has no tracking). */
const LARDER_BUS = 'larder (L1, bus)';
/** The floor of the bus row: the same L1 keeping each write, with no invalidation at all (no bus message, no echo). */
const LARDER_L1_ALONE = 'floor: larder (L1, no invalidation)';
const RAW = 'raw memjs';
const KEYV = 'keyv + @keyv/memcache';
const FLOOR = 'floor: pre-framed sockets + JSON.parse';

interface Ctx {
  cluster: MemcachedCluster;
  store: MemcachedStore;
  larder: Cache;
  larderBus: Cache;
  larderL1Alone: Cache;
  bus: RedisServer;
  raw: MemjsClient;
  keyv: Keyv;
  floor: MemcachedFloor;
  /** Socket writes (requests on the wire) per subject. */
  writes: Record<string, number>;
}

const key = (i: number) => `k${i % KEYS}`;
const manyKeys = (i: number) => Array.from({ length: MANY }, (_, j) => key(i * MANY + j));
/** The key sets `manyKeys` cycles through, as key numbers (for the floor). */
const keySets = Array.from({ length: KEYS / MANY }, (_, s) => Array.from({ length: MANY }, (_, j) => s * MANY + j));
const silent = { log: () => undefined };

/** Counts writes of memjs `Server`s (raw memjs and keyv's client). */
function countWrites(servers: readonly MemjsServer[], writes: Record<string, number>, subject: string): void {
  for (const server of servers) {
    const write = server.write.bind(server);
    server.write = (blob: Buffer) => {
      writes[subject] = (writes[subject] ?? 0) + 1;
      write(blob);
    };
  }
}

async function setup(): Promise<Ctx> {
  const cluster = await startMemcached({ count: 3 });
  const servers = cluster.nodes.map((node) => node.address);
  const writes: Record<string, number> = { [LARDER]: 0, [RAW]: 0, [KEYV]: 0 };
  const store = await createMemcachedStore({
    servers,
    serverFactory: (node, createDefault) => {
      const server = createDefault(node);
      const write = server.write.bind(server);
      server.write = (blob: Buffer) => {
        writes[LARDER]!++;
        write(blob);
      };
      return server;
    },
  });
  const larder = new Cache({ store, prefix: 'larder:' });
  const bus = await startRedis();
  const larderBus = new Cache({
    store: await createMemcachedStore({ servers }),
    prefix: 'larder-bus:',
    l1: { invalidation: 'bus', busUrl: bus.url },
  });
  const larderL1Alone = new Cache({
    store: await createMemcachedStore({ servers }),
    prefix: 'larder-l1:',
    l1: { invalidation: 'none' },
  });
  const raw = memjs.Client.create(servers.join(','), { logger: silent, timeout: 1 });
  countWrites(raw.servers, writes, RAW);
  const keyvStore = new KeyvMemcache(servers.join(','), { logger: silent });
  countWrites((keyvStore.client as unknown as MemjsClient).servers, writes, KEYV);
  const keyv = new Keyv({ store: keyvStore, namespace: 'keyv' });

  await larder.setMany(Array.from({ length: KEYS }, (_, i) => [key(i), VALUE] as const));
  for (let i = 0; i < KEYS; i++) {
    await raw.set(`raw:${key(i)}`, JSON_VALUE, {});
    await keyv.set(key(i), VALUE);
  }
  const floor = await MemcachedFloor.open(servers, keySets, JSON_VALUE);
  await larderBus.setMany(Array.from({ length: KEYS }, (_, i) => [key(i), VALUE] as const));
  return { cluster, store, larder, larderBus, larderL1Alone, bus, raw, keyv, floor, writes };
}

function getCases(concurrency: number): BenchCase<Ctx>[] {
  const op = `get (hit) ×${concurrency}`;
  return [
    { op, subject: LARDER, concurrency, run: (c, i) => c.larder.get(key(i)) },
    {
      op,
      subject: RAW,
      concurrency,
      run: async (c, i) => JSON.parse(String((await c.raw.get(`raw:${key(i)}`)).value)),
    },
    { op, subject: KEYV, concurrency, run: (c, i) => c.keyv.get(key(i)) },
  ];
}

/** Sets of the ~200-byte JSON value (encoded by each subject) with `concurrency` in flight, over `set`; keyv on the first set only. */
function setCases(concurrency: number, set: KeySet): BenchCase<Ctx>[] {
  const op = setOp(concurrency, set);
  const name = (i: number) => `k${set.index(i)}`;
  return [
    { op, subject: LARDER, concurrency, run: (c, i) => c.larder.set(name(i), VALUE, '10m') },
    { op, subject: LARDER_BUS, concurrency, run: (c, i) => c.larderBus.set(name(i), VALUE, '10m') },
    { op, subject: LARDER_L1_ALONE, concurrency, run: (c, i) => c.larderL1Alone.set(name(i), VALUE, '10m') },
    {
      op,
      subject: RAW,
      concurrency,
      run: (c, i) => c.raw.set(`raw:${name(i)}`, JSON.stringify(VALUE), { expires: 600 }),
    },
    ...(set === WRITE_KEY_SETS[0]
      ? [{ op, subject: KEYV, concurrency, run: (c: Ctx, i: number) => c.keyv.set(name(i), VALUE, 600_000) }]
      : []),
  ];
}

const many = `getMany(${MANY}) over 3 nodes`;

/** The memcached scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'memcached',
  description:
    'GET/SET of a ~200-byte JSON value (decoded) at 1 and 64 in flight, and getMany(100), over three memcached processes on loopback; larder through the Cache facade.',
  baseline: RAW,
  setup,
  cases: [
    ...getCases(1),
    ...getCases(64),
    ...WRITE_KEY_SETS.flatMap((set) => [...setCases(1, set), ...setCases(64, set)]),
    { op: many, subject: LARDER, run: (c, i) => c.larder.getMany(manyKeys(i)) },
    {
      op: many,
      subject: RAW,
      run: (c, i) =>
        Promise.all(
          manyKeys(i).map(async (k) => {
            const { value } = await c.raw.get(`raw:${k}`);
            return value === null ? undefined : JSON.parse(String(value));
          }),
        ),
    },
    { op: many, subject: KEYV, run: (c, i) => c.keyv.getMany(manyKeys(i)) },
    { op: many, subject: FLOOR, run: (c, i) => c.floor.getMany(i) },
  ],
  counters: [
    { name: 'requests on the wire/op', read: (c, bench) => c.writes[bench.subject] },
    {
      // Client CPU per operation: steadier than ops/s on a loaded machine (the server's CPU is not in it).
      name: 'client CPU µs/op',
      read: () => {
        const { user, system } = process.cpuUsage();
        return user + system;
      },
      digits: 1,
    },
  ],
  targets: [
    { op: 'get (hit) ×1', subject: LARDER, over: RAW, atLeast: 0.9 },
    { op: 'get (hit) ×64', subject: LARDER, over: RAW, atLeast: 1.3 },
    ...WRITE_KEY_SETS.flatMap((set) => [
      { op: setOp(1, set), subject: LARDER, over: RAW, atLeast: 0.9 },
      { op: setOp(64, set), subject: LARDER, over: RAW, atLeast: 1.3 },
      { op: setOp(64, set), subject: LARDER_BUS, over: LARDER, atLeast: 0.8 },
    ]),
    { op: many, subject: LARDER, over: RAW, atLeast: 5 },
  ],
  notes: [
    'Every subject decodes the value (raw memjs: JSON.parse), so the comparison is what an app sees.',
    `Set rows run on four key sets: ${WRITE_KEY_SETS.map((set) => set.label).join(', ')} (keyv + @keyv/memcache on the first only). With the L1 on the bus, a set keeps the value in the L1 (up to its 10,000 entries by default) and announces the key on the bus (one message per turn).`,
    'larder batches the gets of one tick into one quiet-get request (GETKQ… + NOOP) per node; getMany is one such request per node.',
    'raw memjs has no multi-get: its getMany row is 100 concurrent per-key gets (what keyv + @keyv/memcache does too).',
    '"requests on the wire/op" counts socket writes of each client (one binary request, or one quiet batch, per write).',
    '"client CPU µs/op" is this process\'s CPU time (user + system) per operation during the case.',
    `"${LARDER_L1_ALONE}": the bus row's L1 with \`invalidation: 'none'\` (one process only; no bus message, no echo): what keeping each written value in the L1 costs by itself, the floor under the bus row.`,
    `"${FLOOR}" is no client at all (src/memcached-floor.ts): one ready-made quiet-get buffer written per node, answers walked and each value JSON.parsed. It is the least any client can spend here; its ratio is about the most any client can reach on this machine.`,
    'Versions: memjs 1.3.2, keyv 5.6.0 + @keyv/memcache 2.0.2, memcached 1.6.18 (3 processes, -m 64).',
  ],
  async teardown(c) {
    await c.store.close();
    await c.larderBus.close();
    await c.larderL1Alone.close();
    await c.bus.stop();
    c.raw.close();
    c.floor.close();
    await c.keyv.disconnect().catch(() => undefined);
    await c.cluster.stop();
  },
};
