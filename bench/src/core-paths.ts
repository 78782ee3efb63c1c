/**
 * `node --import tsx bench/src/core-paths.ts`: how many of core's functions one `get` and one
 * `remember` miss call, in how many files, and how many timers the facade arms, for a store that
 * is not in process (a small asynchronous map with an atomic `compareAndSet`, like Redis'; the
 * driver's own functions are not counted). Counts come from V8's precise coverage (call counts
 * per function) around one call, after a warm-up; docs/architecture.md quotes them.
 */
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { Cache } from '@larder/core';
import type { CacheStore, Payload, TtlMs } from '@larder/core/driver';

const CORE_SRC = fileURLToPath(new URL('../../packages/core/src/', import.meta.url));

/** An asynchronous map store with the capabilities of a remote one. */
function remoteLikeStore(deadlineMs?: number): CacheStore {
  const map = new Map<string, Payload>();
  return {
    driver: 'remote-like',
    capabilities: {
      atomicAdd: true,
      ttlPrecisionMs: 1,
      maxKeyBytes: 250,
      maxValueBytes: 1024 * 1024,
      inProcess: false,
      deadlineMs,
    },
    async get(key) {
      return map.get(key);
    },
    async set(key, payload, _ttl: TtlMs) {
      map.set(key, payload);
    },
    async delete(key) {
      return map.delete(key);
    },
    async add(key, payload) {
      if (map.has(key)) return false;
      map.set(key, payload);
      return true;
    },
    async compareAndSet(key, expected, payload) {
      if (map.get(key) !== expected) return false;
      map.set(key, payload);
      return true;
    },
  };
}

interface PathCount {
  calls: number;
  files: number;
  timers: number;
  byFile: Record<string, number>;
}

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });

/** Core's function calls (and the timers armed) while `run` runs once. */
async function measure(run: () => Promise<unknown>): Promise<PathCount> {
  await session.post('Profiler.takePreciseCoverage'); // resets the counters
  let timers = 0;
  const setTimeoutOriginal = globalThis.setTimeout;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return setTimeoutOriginal(...args);
  }) as typeof setTimeout;
  try {
    await run();
  } finally {
    globalThis.setTimeout = setTimeoutOriginal;
  }
  const { result } = await session.post('Profiler.takePreciseCoverage');
  const byFile: Record<string, number> = {};
  let calls = 0;
  for (const script of result) {
    if (!script.url.startsWith('file://')) continue;
    const file = fileURLToPath(script.url);
    if (!file.startsWith(CORE_SRC) || file.includes('/testing/')) continue;
    let count = 0;
    for (const fn of script.functions) {
      // The first range of a function is its whole body: its count is the number of calls.
      const range = fn.ranges[0];
      if (range === undefined || (fn.functionName === '' && fn.ranges[0]?.startOffset === 0)) continue;
      count += range.count;
    }
    if (count > 0) byFile[file.slice(CORE_SRC.length)] = count;
    if (process.env.LIST_FUNCTIONS)
      for (const fn of script.functions)
        if ((fn.ranges[0]?.count ?? 0) > 0 && fn.ranges[0]?.startOffset !== 0)
          process.stdout.write(
            `    ${file.slice(CORE_SRC.length)} ${fn.functionName || '(anonymous)'} ${fn.ranges[0]?.count}\n`,
          );
    calls += count;
  }
  return { calls, files: Object.keys(byFile).length, timers, byFile };
}

const cache = new Cache({ store: remoteLikeStore(), prefix: 'paths' });
// Warm up: every path once, so module-level code and lazy set-up are not counted.
for (let i = 0; i < 50; i++) {
  await cache.set(`warm${i}`, { i });
  await cache.get(`warm${i}`);
  await cache.remember(`warm-r${i}`, '1m', () => ({ i }));
}
await cache.set('user:1', { name: 'Ann' });
const get = await measure(() => cache.get('user:1'));
const rememberMiss = await measure(() => cache.remember('report:1', '1m', () => ({ rows: 3 })));
// The same with an L1 in front (no invalidation channel: TTL only): a read that misses the L1, then a hit.
const tiered = new Cache({ store: remoteLikeStore(), prefix: 'paths', l1: { invalidation: 'none' } });
for (let i = 0; i < 50; i++) {
  await tiered.set(`warm${i}`, { i });
  await tiered.get(`warm${i}`);
  await tiered.get(`warm${i}`);
  await tiered.remember(`warm-r${i}`, '1m', () => ({ i }));
}
await tiered.set('user:1', { name: 'Ann' });
// A store that bounds its own calls (`deadlineMs`, as the Redis and memcached drivers do): the facade arms no timer.
const owned = new Cache({ store: remoteLikeStore(1000), prefix: 'paths' });
for (let i = 0; i < 50; i++) {
  await owned.set(`warm${i}`, { i });
  await owned.get(`warm${i}`);
  await owned.remember(`warm-r${i}`, '1m', () => ({ i }));
}
await owned.set('user:1', { name: 'Ann' });
const getOwned = await measure(() => owned.get('user:1'));
const rememberOwned = await measure(() => owned.remember('report:1', '1m', () => ({ rows: 3 })));
const getL1Miss = await measure(() => tiered.get('user:1'));
const getL1Hit = await measure(() => tiered.get('user:1'));
const rememberMissL1 = await measure(() => tiered.remember('report:1', '1m', () => ({ rows: 3 })));
await session.post('Profiler.stopPreciseCoverage');
session.disconnect();

for (const [name, count] of Object.entries({
  get,
  'remember miss': rememberMiss,
  'get, store with its own deadline': getOwned,
  'remember miss, store with its own deadline': rememberOwned,
  'get, L1 miss': getL1Miss,
  'get, L1 hit': getL1Hit,
  'remember miss, L1': rememberMissL1,
})) {
  process.stdout.write(`${name}: ${count.calls} calls in ${count.files} files, ${count.timers} timers\n`);
  for (const [file, n] of Object.entries(count.byFile)) process.stdout.write(`  ${file}: ${n}\n`);
}
