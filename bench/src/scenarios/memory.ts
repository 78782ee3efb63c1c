/**
 * In-process caching: larder's memory store through the `Cache` facade against raw lru-cache
 * and the in-memory defaults of keyv, cache-manager and bentocache, over key sets of 1,000 to
 * 1,000,000 keys read uniformly and with a Zipf skew.
 */
import { type Cache, createCacheManager } from '@larder/core';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import type { BenchCase, Scenario } from '../harness';
import { objectValue, random, STRING_VALUE, zipfOrder } from '../workload';

const TTL_MS = 3_600_000;
/** Key sets of ~200-byte strings, and of ~1 KB objects (not at 1,000,000: a GB of heap per subject). */
const STRING_SIZES = [1_000, 100_000, 1_000_000];
const OBJECT_SIZES = [1_000, 100_000];
/** Precomputed key orders (per key set and distribution), indexed by `i & ORDER_MASK`. */
const ORDER_LENGTH = 1 << 20;
const ORDER_MASK = ORDER_LENGTH - 1;
/** A few distinct objects for the set cases: built outside the measured loop. */
const OBJECTS = Array.from({ length: 64 }, (_, i) => objectValue(i));

/** One subject's cache sized for one key set. */
interface Instance {
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
  close(): Promise<void>;
}

interface Subject {
  name: string;
  create(maxEntries: number): Promise<Instance>;
}

/** larder's memory store through the `Cache` facade; `clone: false` keeps references. */
async function larder(maxEntries: number, clone: boolean): Promise<Instance> {
  const manager = createCacheManager({
    // maxBytes raised so a million 200-byte values fit (the default is 64 MiB).
    stores: { memory: { driver: 'memory', maxEntries, maxBytes: 4 * 1024 ** 3, clone } },
  });
  const cache: Cache = manager.store('memory');
  await cache.getStore();
  return { get: (k) => cache.get(k), set: (k, v) => cache.set(k, v, TTL_MS), close: () => manager.close() };
}

/**
 * A/B against another build of larder (`LARDER_BENCH_BASELINE`: a checkout whose core and memory
 * packages are built, e.g. a `git worktree` of an older commit; `LARDER_BENCH_BASELINE_LABEL`
 * names it): the scenario becomes `memory-ab`, with this build and that one made the same way.
 */
const BASELINE = process.env.LARDER_BENCH_BASELINE;
const THIS_BUILD = 'larder (this build)';
const BASELINE_LABEL = process.env.LARDER_BENCH_BASELINE_LABEL ?? 'baseline build';
const BASELINE_BUILD = `larder (${BASELINE_LABEL})`;

/** A `Cache` over a memory store, both from the build at `root` (this one when undefined), default options. */
async function larderBuild(root: string | undefined, maxEntries: number): Promise<Instance> {
  const from = (pkg: string) => (root === undefined ? `@larder/${pkg}` : `${root}/packages/${pkg}/dist/index.js`);
  const core = (await import(from('core'))) as typeof import('@larder/core');
  const memory = (await import(from('memory'))) as typeof import('@larder/memory');
  const cache = new core.Cache({ store: memory.createMemoryStore({ maxEntries, maxBytes: 4 * 1024 ** 3 }) });
  await cache.getStore();
  return { get: (k) => cache.get(k), set: (k, v) => cache.set(k, v, TTL_MS), close: () => cache.close() };
}

const abSubjects: Subject[] = [
  { name: THIS_BUILD, create: (maxEntries) => larderBuild(undefined, maxEntries) },
  { name: BASELINE_BUILD, create: (maxEntries) => larderBuild(BASELINE, maxEntries) },
];

const peerSubjects: Subject[] = [
  { name: 'larder', create: (maxEntries) => larder(maxEntries, true) },
  // Like for like with the peers that hand out the stored reference (not isolated from mutation).
  { name: 'larder (clone: false)', create: (maxEntries) => larder(maxEntries, false) },
  {
    name: 'raw lru-cache',
    async create(maxEntries) {
      const lru = new LRUCache<string, object | string>({ max: maxEntries });
      return {
        get: (k) => lru.get(k),
        set: (k, v) => lru.set(k, v as object, { ttl: TTL_MS }),
        close: async () => lru.clear(),
      };
    },
  },
  {
    name: 'keyv',
    async create() {
      const keyv = new Keyv();
      return { get: (k) => keyv.get(k), set: (k, v) => keyv.set(k, v, TTL_MS), close: () => keyv.disconnect() };
    },
  },
  {
    name: 'cache-manager',
    async create() {
      const cm = createCache();
      return {
        get: (k) => cm.get(k),
        set: (k, v) => cm.set(k, v, TTL_MS),
        close: async () => {
          await cm.disconnect();
        },
      };
    },
  },
  {
    name: 'bentocache',
    async create(maxEntries) {
      const bento = new BentoCache({
        default: 'memory',
        stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: maxEntries, maxSize: 4 * 1024 ** 3 })) },
      });
      return {
        get: (k) => bento.get({ key: k }),
        set: (k, v) => bento.set({ key: k, value: v, ttl: TTL_MS }),
        close: () => bento.disconnectAll(),
      };
    },
  },
];

const subjects = BASELINE === undefined ? peerSubjects : abSubjects;
/** This process's subject (isolated runs name it; alone, the first). */
const thisSubject = () => process.env.LARDER_BENCH_SUBJECT ?? (subjects[0] as Subject).name;

/** A key set: its keys, and two precomputed orders of them (uniform and Zipf, s = 1). */
interface KeySet {
  label: string;
  kind: 'string' | 'object';
  keys: string[];
  uniform: string[];
  zipf: string[];
}

function keySet(kind: KeySet['kind'], size: number): KeySet {
  const rnd = random(size + (kind === 'object' ? 1 : 0));
  const keys = Array.from({ length: size }, (_, i) => `${kind[0]}:user:${i}`);
  const uniform = Array.from({ length: ORDER_LENGTH }, () => keys[Math.floor(rnd() * size)]!);
  return { label: keySetLabel(kind, size), kind, keys, uniform, zipf: zipfOrder(keys, rnd, ORDER_LENGTH) };
}

interface Ctx {
  sets: { set: KeySet; instance: Instance }[];
}

const KEY_SETS: [KeySet['kind'], number][] = [
  ...STRING_SIZES.map((n): [KeySet['kind'], number] => ['string', n]),
  ...OBJECT_SIZES.map((n): [KeySet['kind'], number] => ['object', n]),
];

/** Op names per key set: get uniform, get Zipf, set uniform. */
const opsOf = (label: string) => ({
  uniform: `get (hit) uniform · ${label}`,
  zipf: `get (hit) Zipf · ${label}`,
  set: `set · ${label}`,
});

function cases(ctx: Ctx): BenchCase<Ctx>[] {
  // Isolated: only this process's subject has instances (one per key set, prefilled in setup).
  const subject = thisSubject();
  return ctx.sets.flatMap(({ set, instance }) => {
    const op = opsOf(set.label);
    const value = (i: number) => (set.kind === 'string' ? STRING_VALUE : OBJECTS[i & 63]!);
    return [
      { op: op.uniform, subject, run: (_c: Ctx, i: number) => instance.get(set.uniform[i & ORDER_MASK]!) },
      { op: op.zipf, subject, run: (_c: Ctx, i: number) => instance.get(set.zipf[i & ORDER_MASK]!) },
      { op: op.set, subject, run: (_c: Ctx, i: number) => instance.set(set.uniform[i & ORDER_MASK]!, value(i)) },
    ];
  });
}

const abScenario = {
  name: 'memory-ab',
  description:
    `The memory rows' workload (key sets, orders, one call in flight, each subject in its own process) on this build ` +
    `and on ${BASELINE_LABEL}: a \`Cache\` over a memory store, default options, made the same ` +
    'way in both.',
  baseline: BASELINE_BUILD,
  targets: KEY_SETS.flatMap(([kind, size]) =>
    Object.values(opsOf(keySetLabel(kind, size))).map((op) => ({
      op,
      subject: THIS_BUILD,
      over: BASELINE_BUILD,
      // Not slower, within the 5% a CPU-clock round moves by on its own.
      atLeast: 0.95,
    })),
  ),
};

/** The in-memory scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'memory',
  description:
    'In-process cache, key sets of 1,000, 100,000 and 1,000,000 keys holding a ~200-byte string, and of 1,000 and ' +
    '100,000 keys holding a ~1 KB object (5 nested records), TTL 1h, one call in flight; keys read uniformly or with a ' +
    'Zipf skew (s = 1, hot keys spread over the set), key orders precomputed. Each subject runs in a process of its own, ' +
    'with one cache per key set, prefilled once. larder = the memory store through the `Cache` facade, default options ' +
    '(values copied in and out, so isolated from mutation); larder (clone: false) keeps references, as cache-manager ' +
    'and lru-cache do (the like-for-like row; targets are on the default). Peers use their defaults: keyv 5.6 (in-memory Map, ' +
    'JSON-serialized), cache-manager 7.2 (keyv Map, serialization off: keeps references, not isolated), bentocache 1.6 ' +
    '(memory driver only, no bus). raw lru-cache (references, no facade) is the floor of what an in-process get costs. ' +
    'Every call is awaited.',
  baseline: 'larder',
  // Everything runs in this process: count its CPU time, so other load on the machine does not skew ratios.
  clock: 'cpu',
  async setup() {
    const only = thisSubject();
    const subject = subjects.find((s) => s.name === only);
    if (!subject) throw new Error(`memory: unknown subject ${only}`);
    const sets: Ctx['sets'] = [];
    for (const [kind, size] of KEY_SETS) {
      const set = keySet(kind, size);
      const instance = await subject.create(size);
      for (let i = 0; i < size; i++) {
        await instance.set(set.keys[i]!, kind === 'string' ? STRING_VALUE : objectValue(i));
      }
      sets.push({ set, instance });
    }
    return { sets };
  },
  cases,
  teardown: async (ctx) => {
    for (const { instance } of ctx.sets) await instance.close();
  },
  // All share the garbage collector, three subjects share lru-cache: each runs in its own process.
  isolate: { subjects: subjects.map((s) => s.name) },
  targets: KEY_SETS.flatMap(([kind, size]) => {
    const op = opsOf(keySetLabel(kind, size));
    return [
      { op: op.uniform, subject: 'larder', over: 'cache-manager', atLeast: 2 },
      { op: op.zipf, subject: 'larder', over: 'cache-manager', atLeast: 2 },
      { op: op.set, subject: 'larder', over: 'cache-manager', atLeast: 2 },
      // Within 3× of raw lru-cache: larder's rate at least a third of it.
      { op: op.uniform, subject: 'larder', over: 'raw lru-cache', atLeast: 1 / 3 },
      { op: op.zipf, subject: 'larder', over: 'raw lru-cache', atLeast: 1 / 3 },
    ];
  }),
  ...(BASELINE === undefined ? {} : abScenario),
};

function keySetLabel(kind: KeySet['kind'], size: number): string {
  return `${size.toLocaleString('en-US')} keys, ${kind === 'string' ? '200 B string' : '1 KB object'}`;
}
