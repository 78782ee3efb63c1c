/**
 * In-process caching: larder's memory store through the `Cache` facade against raw lru-cache
 * and the in-memory defaults of keyv, cache-manager and bentocache, on the same keys and value.
 */
import { type Cache, createCacheManager } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { instrumentLarder } from '@larder/otel';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import type { BenchCase, Scenario } from '../harness';
import { coreCopy } from '../untraced-core';

const KEYS = 1000;
const OTEL = 'larder + @larder/otel';
const COPIES = { traced: 'core copy, tracing code', untraced: 'core copy, no tracing code' } as const;
const TTL_MS = 3_600_000;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);
const value = (i: number) => ({
  id: i,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'editor'],
  createdAt: '2026-01-01T00:00:00.000Z',
});
const loader = () => value(0);

interface Ctx {
  larder: Cache;
  larderRaw: Cache;
  larderCodec: Cache;
  /** Caches from two copies of core built the same way, with and without the tracing code (see untraced-core.ts). */
  copies: Partial<Record<'traced' | 'untraced', Cache>>;
  lru: LRUCache<string, object>;
  keyv: Keyv;
  cacheManager: ReturnType<typeof createCache>;
  bento: BentoCache<{ memory: ReturnType<typeof bentostore> }>;
  close(): Promise<void>;
}

type Subject = {
  name: string;
  get(ctx: Ctx, key: string): unknown;
  set(ctx: Ctx, key: string, v: object): unknown;
  remember(ctx: Ctx, key: string): unknown;
};

const subjects: Subject[] = [
  {
    name: 'larder',
    get: (c, k) => c.larder.get(k),
    set: (c, k, v) => c.larder.set(k, v, TTL_MS),
    remember: (c, k) => c.larder.remember(k, TTL_MS, loader),
  },
  ...(['traced', 'untraced'] as const).map((kind) => ({
    name: COPIES[kind],
    get: (c: Ctx, k: string) => c.copies[kind]!.get(k),
    set: (c: Ctx, k: string, v: object) => c.copies[kind]!.set(k, v, TTL_MS),
    remember: (c: Ctx, k: string) => c.copies[kind]!.remember(k, TTL_MS, loader),
  })),
  {
    // Same Cache as `larder`; its process runs instrumentLarder (metrics on, no parent span: no spans).
    name: OTEL,
    get: (c, k) => c.larder.get(k),
    set: (c, k, v) => c.larder.set(k, v, TTL_MS),
    remember: (c, k) => c.larder.remember(k, TTL_MS, loader),
  },
  {
    name: 'larder (clone: false)',
    get: (c, k) => c.larderRaw.get(k),
    set: (c, k, v) => c.larderRaw.set(k, v, TTL_MS),
    remember: (c, k) => c.larderRaw.remember(k, TTL_MS, loader),
  },
  {
    name: 'larder (useCodec)',
    get: (c, k) => c.larderCodec.get(k),
    set: (c, k, v) => c.larderCodec.set(k, v, TTL_MS),
    remember: (c, k) => c.larderCodec.remember(k, TTL_MS, loader),
  },
  {
    name: 'raw lru-cache',
    get: (c, k) => c.lru.get(k),
    set: (c, k, v) => c.lru.set(k, v, { ttl: TTL_MS }),
    remember: (c, k) => {
      const hit = c.lru.get(k);
      if (hit !== undefined) return hit;
      const loaded = loader();
      c.lru.set(k, loaded, { ttl: TTL_MS });
      return loaded;
    },
  },
  {
    name: 'keyv',
    get: (c, k) => c.keyv.get(k),
    set: (c, k, v) => c.keyv.set(k, v, TTL_MS),
    // keyv has no remember/wrap: get, then set on a miss.
    remember: async (c, k) => {
      const hit = await c.keyv.get(k);
      if (hit !== undefined) return hit;
      const loaded = loader();
      await c.keyv.set(k, loaded, TTL_MS);
      return loaded;
    },
  },
  {
    name: 'cache-manager',
    get: (c, k) => c.cacheManager.get(k),
    set: (c, k, v) => c.cacheManager.set(k, v, TTL_MS),
    remember: (c, k) => c.cacheManager.wrap(k, loader, TTL_MS),
  },
  {
    name: 'bentocache',
    get: (c, k) => c.bento.get({ key: k }),
    set: (c, k, v) => c.bento.set({ key: k, value: v, ttl: TTL_MS }),
    remember: (c, k) => c.bento.getOrSet({ key: k, factory: loader, ttl: TTL_MS }),
  },
];

async function prime(ctx: Ctx): Promise<void> {
  // Isolated (one subject per process): prime only the subject measured here.
  const only = process.env.LARDER_BENCH_SUBJECT;
  for (const subject of subjects) {
    if (only && subject.name !== only) continue;
    for (let i = 0; i < KEYS; i++) {
      await subject.set(ctx, keys[i]!, value(i));
      await subject.remember(ctx, `r:${keys[i]}`);
    }
  }
}

function cases(): BenchCase<Ctx>[] {
  const ops: [string, (s: Subject) => BenchCase<Ctx>['run']][] = [
    ['get (hit)', (s) => (ctx, i) => s.get(ctx, keys[i % KEYS]!)],
    ['set', (s) => (ctx, i) => s.set(ctx, keys[i % KEYS]!, value(i))],
    ['remember (hit)', (s) => (ctx, i) => s.remember(ctx, `r:${keys[i % KEYS]}`)],
  ];
  return ops.flatMap(([op, make]) => subjects.map((s) => ({ op, subject: s.name, run: make(s) })));
}

/** A metric reader nobody reads: the cost measured is recording, not exporting. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** @larder/otel as an app would run it: a meter provider with a reader, a tracer provider, no parent span. */
function startOtel() {
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  const tracerProvider = new BasicTracerProvider();
  const instrumented = instrumentLarder({ meterProvider, tracerProvider });
  return {
    async close() {
      instrumented.disable();
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The in-memory scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'memory',
  description:
    'In-process cache, 1,000 keys, a 5-field object value, TTL 1h, one call in flight. ' +
    'larder = the memory store through the `Cache` facade, default options (values copied in and out, so isolated ' +
    'from mutation); `clone: false` keeps references; `useCodec` runs the JSON codec on every call. Peers use their ' +
    'defaults: keyv 5.6 (in-memory Map, JSON-serialized), cache-manager 7.2 (keyv Map, serialization off: keeps ' +
    'references, not isolated), bentocache 1.6 (memory driver only, no bus). Every call is awaited. Each subject runs in a process of its own. ' +
    '`core copy` rows = the Cache from two copies of core built the same way, one whose facade methods lack the larder.operation check; ' +
    '`+ @larder/otel` = `larder` with instrumentLarder on (metrics recorded, no parent span so no spans).',
  baseline: 'larder',
  // Everything runs in this process: count its CPU time, so other load on the machine does not skew ratios.
  clock: 'cpu',
  async setup() {
    const manager = createCacheManager({
      stores: {
        memory: { driver: 'memory', maxEntries: 10_000 },
        raw: { driver: 'memory', clone: false },
        codec: { driver: 'memory', useCodec: true },
      },
    });
    const larder = manager.store('memory');
    const larderRaw = manager.store('raw');
    const larderCodec = manager.store('codec');
    await Promise.all([larder.getStore(), larderRaw.getStore(), larderCodec.getStore()]);
    // Each copy only in its own subject's process (both when not isolated).
    const only = process.env.LARDER_BENCH_SUBJECT;
    const copies: Ctx['copies'] = {};
    const loaded: { dispose(): void }[] = [];
    for (const kind of ['traced', 'untraced'] as const) {
      if (only && only !== COPIES[kind]) continue;
      const copy = await coreCopy(kind);
      loaded.push(copy);
      copies[kind] = new copy.Cache({
        store: createMemoryStore({ maxEntries: 10_000 }),
        name: 'memory',
        prefix: 'larder',
      });
    }
    // Only in the otel subject's own process: a subscriber anywhere else would trace every subject.
    const otel = process.env.LARDER_BENCH_SUBJECT === OTEL ? startOtel() : undefined;
    const lru = new LRUCache<string, object>({ max: 10_000 });
    const keyv = new Keyv();
    const cacheManager = createCache();
    const bento = new BentoCache({
      default: 'memory',
      stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
    });
    const ctx: Ctx = {
      larder,
      larderRaw,
      larderCodec,
      copies,
      lru,
      keyv,
      cacheManager,
      bento,
      close: async () => {
        await otel?.close();
        for (const cache of Object.values(copies)) await cache.close();
        for (const copy of loaded) copy.dispose();
        await manager.close();
        await cacheManager.disconnect();
        await bento.disconnectAll();
      },
    };
    await prime(ctx);
    return ctx;
  },
  cases,
  teardown: (ctx) => ctx.close(),
  // Three subjects share lru-cache, and all share the garbage collector: each runs in its own process.
  isolate: { subjects: subjects.map((s) => s.name) },
  targets: [
    { op: 'get (hit)', subject: 'larder', over: 'cache-manager', atLeast: 3 },
    { op: 'get (hit)', subject: 'larder', over: 'keyv', atLeast: 10 },
    { op: 'set', subject: 'larder', over: 'cache-manager', atLeast: 2 },
  ],
};
