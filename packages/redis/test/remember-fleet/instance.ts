// One app instance of the remember fleet test, in its own OS process (child_process.fork with
// tsx): a Cache on the Redis of LARDER_FLEET_URL; it runs the parent's requests over IPC.
import { performance } from 'node:perf_hooks';
import type { Cache as CacheType, LoaderContext } from '@larder/core';
import type { Request, SourceMode } from './protocol';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The loader of `mode`: never settles, fails at once, or answers after `sourceMs`. */
function source(mode: SourceMode, sourceMs: number, counts: { runs: number; aborted: number }) {
  return (context: LoaderContext): Promise<string> => {
    counts.runs++;
    context.signal.addEventListener('abort', () => counts.aborted++);
    if (mode === 'hung') return new Promise(() => {});
    if (mode === 'down') return Promise.reject(new Error('source down'));
    return sleep(sourceMs).then(() => `v${Date.now()}`);
  };
}

/** The `many` round waiting for its `release`: opens its gate, and its result once every caller has its values. */
let round: { open: () => void; done: Promise<object> } | undefined;

/** A `many` round: `rememberMany` callers of `count` keys; `loadMany` records its keys and answers `<key>@<pid>`. */
async function many(cache: CacheType, request: Extract<Request, { op: 'many' }>): Promise<object> {
  const keys = Array.from({ length: request.count }, (_, i) => `many:k${i}`);
  const calls: string[][] = [];
  let open = () => {};
  const gate = request.gated ? new Promise<void>((resolve) => (open = resolve)) : Promise.resolve();
  let called = () => {};
  const loading = new Promise<void>((resolve) => (called = resolve));
  const loadMany = async (missing: string[]) => {
    calls.push([...missing]);
    called();
    await gate;
    return missing.map((key) => `${key}@${process.pid}`);
  };
  const remember = () => cache.rememberMany<string>(keys, '1m', loadMany);
  const first = Promise.all(Array.from({ length: request.callers }, remember));
  // The late callers arrive while the load runs (or, when nothing is loaded, after the first ones).
  await Promise.race([loading, first]);
  const late = Promise.all(Array.from({ length: request.late }, remember));
  const done = Promise.all([first, late]).then(([a, b]) => ({ calls, values: [...a, ...b] }));
  if (!request.gated) return done;
  round = { open, done };
  return {};
}

let tiered: Promise<CacheType> | undefined;

/** The instance's second cache, with an L1 kept coherent by Redis tracking (made at its first use, once up). */
function l1Cache(): Promise<CacheType> {
  tiered ??= (async () => {
    const { Cache } = await import('@larder/core');
    const { createRedisStore } = await import('@larder/redis');
    const store = createRedisStore({ url: process.env.LARDER_FLEET_URL, commandTimeoutMs: 10_000 });
    const cache = new Cache({ store, prefix: 'fleet:', l1: { invalidation: 'tracking' } });
    while ((await cache.describeL1())?.state !== 'up') await sleep(10);
    return cache;
  })();
  return tiered;
}

/** An `l1` request: `times` calls of `remember` in a row on the L1 cache. */
async function l1(request: Extract<Request, { op: 'l1' }>): Promise<object> {
  const cache = await l1Cache();
  let runs = 0;
  const loader = (context: LoaderContext) => {
    runs++;
    if (request.notModified) context.notModified();
    return 'loaded';
  };
  const results: unknown[] = [];
  for (let n = 0; n < request.times; n++)
    results.push(await cache.remember(request.key, request.ttl, loader, request.options));
  return { runs, results };
}

const code = (error: unknown) => (error as { code?: string }).code ?? String(error);

async function handle(cache: CacheType, request: Request): Promise<object> {
  if (request.op === 'many') return many(cache, request);
  if (request.op === 'l1') return l1(request);
  if (request.op === 'release') {
    const current = round;
    round = undefined;
    current?.open();
    return current?.done ?? { error: 'no many round in progress' };
  }
  const counts = { runs: 0, aborted: 0 };
  if (request.op === 'once') {
    const loader = source(request.mode, request.sourceMs ?? 0, counts);
    const outcomes = await Promise.all(
      Array.from({ length: request.callers }, async () => {
        const started = performance.now();
        const result = await cache.remember(request.key, '1m', loader, request.options).then(
          () => 'ok',
          (error: unknown) => code(error),
        );
        return { result, ms: performance.now() - started };
      }),
    );
    // The abort listener runs with the rejection: both are in by now.
    return { runs: counts.runs, aborted: counts.aborted, outcomes };
  }
  const loader = source(request.mode, request.sourceMs, counts);
  const latencies: number[] = [];
  const end = performance.now() + request.ms;
  const gap = 1000 / request.rps;
  const calls: Promise<unknown>[] = [];
  for (let next = performance.now(); next < end; next += gap) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    const started = performance.now();
    calls.push(
      cache.remember(request.key, request.ttl, loader, request.options).then(
        () => latencies.push(performance.now() - started),
        () => latencies.push(performance.now() - started),
      ),
    );
  }
  await Promise.all(calls);
  return { runs: counts.runs, latencies };
}

async function main(): Promise<void> {
  const { Cache } = await import('@larder/core');
  const { createRedisStore } = await import('@larder/redis');
  // A long command timeout: a loaded runner starves 8 processes, and a `rememberMany` read of 1,000
  // keys that times out (2 s by default; seen there) loads every key, which is another scenario.
  const store = createRedisStore({ url: process.env.LARDER_FLEET_URL, commandTimeoutMs: 10_000 });
  const cache = new Cache({ store, prefix: 'fleet:' });
  process.on('message', (message: Request) => {
    handle(cache, message).then(
      (reply) => process.send?.({ id: message.id, ...reply }),
      (error: unknown) => process.send?.({ id: message.id, error: String((error as Error)?.message ?? error) }),
    );
  });
  await cache.has('warm-up');
  process.send?.('ready');
}

void main();
