// One app instance of the L1 coherence tests, in its own OS process (child_process.fork with tsx).
// Its store comes from LARDER_COHERENCE (JSON: a CoherenceSpec); it answers 'ready' over IPC once
// its L1 is up, then runs the parent's commands: set, get, watch (spin on get until a value shows,
// recording when the key's invalidation arrived and any read of an older value after that).
import { Cache } from '@larder/core';
import type { CacheStore, InvalidationSource } from '@larder/core/driver';
import { answerRequests, instanceStore } from '../ipc-instance';
import { now } from './clock';
import type { CoherenceSpec, HistoryOp, Reply, Request } from './protocol';

const spec = JSON.parse(process.env.LARDER_COHERENCE ?? '{}') as CoherenceSpec;

/** When each full key's invalidations arrived in this process (one per tracked node for tracking). */
const invalidated = new Map<string, number[]>();

/** Records when invalidations arrive, then hands them to the L1. */
function recording(source: InvalidationSource): InvalidationSource {
  return {
    ...source,
    mode: source.mode,
    publish: source.publish?.bind(source),
    close: source.close.bind(source),
    start(handlers) {
      source.start({
        ...handlers,
        onKeys(keys) {
          const at = now();
          for (const key of keys) invalidated.set(key, [...(invalidated.get(key) ?? []), at].slice(-16));
          handlers.onKeys(keys);
        },
      });
    },
  };
}

async function main(): Promise<void> {
  const store = await instanceStore(spec);
  const own = store.invalidation?.bind(store);
  if (spec.l1.invalidation === 'bus' && own === undefined) {
    // memcached / DynamoDB: the bus comes from @larder/redis, recorded the same way.
    const { larderBus } = await import('@larder/redis');
    (store as { invalidation?: CacheStore['invalidation'] }).invalidation = (_mode, options) =>
      recording(larderBus(options));
  } else if (own !== undefined) {
    (store as { invalidation?: CacheStore['invalidation'] }).invalidation = (mode, options) => {
      const source = own(mode, options);
      return source === undefined ? undefined : recording(source);
    };
  }
  const cache = new Cache({ store, prefix: spec.prefix, l1: spec.l1, timeout: '20s' });
  await answerRequests<Request>(cache, (request) => handle(cache, request));
}

async function handle(cache: Cache, request: Request): Promise<Omit<Reply, 'id'>> {
  if (request.op === 'set') {
    await cache.set(request.key, request.value, '10m');
    return { at: now() };
  }
  if (request.op === 'get') return { value: await cache.get(request.key) };
  if (request.op === 'state') return { value: await cache.describeL1() };
  if (request.op === 'history')
    return { history: await history(cache, request.keys, request.durationMs, request.startAt) };
  // watch: read until `value` shows, reporting when the key's invalidations arrived and when each
  // read of an older value began; the parent judges them against the write's time (harness.ts).
  const full = `${cache.prefix}${request.key}`;
  const since = now();
  const deadline = since + request.timeoutMs;
  const olderReads: number[] = [];
  let reads = 0;
  const arrivals = () => (invalidated.get(full) ?? []).filter((at) => at >= since);
  const needed = spec.arrivalsNeeded ?? 1;
  for (;;) {
    const began = now();
    let value: number | undefined;
    try {
      value = (await cache.get<number>(request.key)) as number | undefined;
    } catch {
      // The backend is failing over: no answer is not a stale answer; read again.
      if (now() > deadline) return { at: undefined, olderReads, arrivals: arrivals(), needed, reads };
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const read = now();
    reads++;
    if (value === request.value) return { at: read, olderReads, arrivals: arrivals(), needed, reads };
    if (value !== undefined && value < request.value) olderReads.push(began);
    if (read > deadline) return { at: undefined, olderReads, arrivals: arrivals(), needed, reads, value };
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Random sets (unique values), deletes and gets on `keys`, one at a time, from `startAt` for `durationMs`. */
async function history(cache: Cache, keys: string[], durationMs: number, startAt: number): Promise<HistoryOp[]> {
  while (now() < startAt) await new Promise((resolve) => setTimeout(resolve, 1));
  const ops: HistoryOp[] = [];
  /** When this process's timers fired late, and by how much (ms). */
  const stalls: [at: number, lateMs: number][] = [];
  const stalledBefore = (at: number) => stalls.reduce((sum, [t, ms]) => (t > at - 1000 ? sum + ms : sum), 0);
  let n = 0;
  while (now() < startAt + durationMs) {
    const key = keys[Math.floor(Math.random() * keys.length)] as string;
    const dice = Math.random();
    const start = now();
    const write: HistoryOp | undefined =
      dice < 0.1
        ? { kind: 'set', key, value: `${process.pid}-${n++}`, start, end: start }
        : dice < 0.13
          ? { kind: 'delete', key, value: null, start, end: start }
          : undefined;
    try {
      if (write?.kind === 'set') await cache.set(key, write.value, '10m');
      else if (write) await cache.delete(key);
      else {
        const value = (await cache.get<string>(key)) ?? null;
        ops.push({ kind: 'get', key, value, start, end: now(), stalledMs: stalledBefore(start) });
      }
    } catch {
      // A write that threw may still land: recorded as failed (checkHistory lets a read return it,
      // never counts it as an overwrite). A read that threw read nothing.
      if (write) write.failed = true;
    }
    if (write) {
      write.end = now();
      ops.push(write);
    }
    // Up to 1 ms between operations, so that L1 hits (sub-microsecond) do not flood the history.
    const delayMs = Math.random() < 0.5 ? 0 : 1;
    const scheduled = now();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    // Node runs setTimeout(0) after 1 ms; a few ms late is ordinary scheduling, more is a stall.
    const lateMs = now() - scheduled - 1;
    if (lateMs > 5) stalls.push([now(), lateMs]);
  }
  return ops;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
