// One app instance of the L1 barrier tests, in its own OS process (child_process.fork with tsx).
// Its store comes from LARDER_BARRIER (JSON: a BarrierSpec); it answers 'ready' over IPC once its
// L1 serves, then runs the parent's commands. Times are `now()` (coherence/clock.ts: the machine's
// monotonic clock, one for every process), never `Date.now`, which a skewed instance shifts.
import type { CacheStore } from '@larder/core/driver';
import { now } from '../coherence/clock';
import { answerRequests, instanceStore } from '../ipc-instance';
import type { BarrierSpec, Op, Reply, Request } from './protocol';

const spec = JSON.parse(process.env.LARDER_BARRIER ?? '{}') as BarrierSpec;
if (spec.skewMs !== undefined) {
  const real = Date.now;
  Date.now = () => real() + (spec.skewMs as number);
}

type Cache = import('@larder/core').Cache;
/** Loaders of `remember` waiting for `release`. */
const gates: (() => void)[] = [];
let loop: { key: string; reads: Op[]; timer?: NodeJS.Timeout } | undefined;
/** The tier of the last `hit` event: a history's reads run one at a time, so it belongs to the read just made. */
let lastHitTier: Op['tier'];

async function main(): Promise<void> {
  const { Cache } = await import('@larder/core');
  const store = await instanceStore(spec);
  if (spec.l1.invalidation === 'bus' && store.invalidation === undefined) {
    const { larderBus } = await import('@larder/redis');
    (store as { invalidation?: CacheStore['invalidation'] }).invalidation = (_mode, options) => larderBus(options);
  }
  const cache = new Cache({ store, prefix: spec.prefix, l1: spec.l1, timeout: '20s' });
  cache.on('hit', (event) => {
    lastHitTier = event.tier;
  });
  await answerRequests<Request>(cache, (request) => handle(cache, request));
}

async function handle(cache: Cache, request: Request): Promise<Omit<Reply, 'id'>> {
  const start = now();
  switch (request.op) {
    case 'set':
      await cache.tags([tagOf(request.key)]).set(request.key, request.value, '10m');
      return { start, end: now() };
    case 'get':
      return { value: (await cache.get(request.key)) ?? null, start, end: now() };
    case 'invalidate':
      await invalidate(cache, request.keys);
      return { start, end: now() };
    case 'invalidateTags':
      await cache.invalidateTags(request.keys.map(tagOf));
      return { start, end: now() };
    case 'softInvalidate':
      await cache.invalidateTags(request.keys.map(tagOf), { soft: true });
      return { start, end: now() };
    case 'scopeSet':
      await cache.scope(request.scope).set(request.key, request.value, '10m');
      return { start, end: now() };
    case 'drop':
      await cache.scope(request.scope).drop();
      return { start, end: now() };
    case 'remember': {
      const loader = async () => {
        if (request.gated) await new Promise<void>((resolve) => gates.push(resolve));
        return request.value;
      };
      const result = await cache.rememberWithStatus(request.key, '10m', loader, {
        tags: [tagOf(request.key)],
        ...(request.grace === undefined ? {} : { grace: request.grace }),
      });
      return { value: result.value, status: result.status, start, end: now() };
    }
    case 'waiting':
      return { value: gates.length };
    case 'release':
      for (const release of gates.splice(0)) release();
      return {};
    case 'state':
      return { value: await cache.describeL1() };
    case 'loop':
      loop = { key: request.key, reads: [] };
      readLoop(cache, loop);
      return {};
    case 'reads': {
      const reads = loop?.reads ?? [];
      clearTimeout(loop?.timer);
      loop = undefined;
      return { ops: reads };
    }
    case 'history':
      return { ops: await history(cache, request) };
  }
}

/** The tag every write of `key` carries (one tag per key, plus the group tag `all`). */
const tagOf = (key: string) => `t:${key}`;

/** A hard invalidation of plain keys: delete, then the barrier. */
async function invalidate(cache: Cache, keys: string[]): Promise<void> {
  await cache.deleteMany(keys);
  await cache.syncL1();
}

/** Reads `state.key` every millisecond (timers run first when a stopped process resumes), recording each read. */
function readLoop(cache: Cache, state: NonNullable<typeof loop>): void {
  const tick = () => {
    const start = now();
    cache.get<string>(state.key).then(
      (value) => {
        state.reads.push({ kind: 'get', keys: [state.key], value: value ?? null, start, end: now() });
        if (loop === state) state.timer = setTimeout(tick, 1);
      },
      () => {
        if (loop === state) state.timer = setTimeout(tick, 1);
      },
    );
  };
  tick();
}

/** Random sets (unique values), gets and hard invalidations on `keys`, one at a time, from `startAt` for `durationMs`. */
async function history(cache: Cache, request: Extract<Request, { op: 'history' }>): Promise<Op[]> {
  while (now() < request.startAt) await new Promise((resolve) => setTimeout(resolve, 1));
  const ops: Op[] = [];
  const pick = () => request.keys[Math.floor(Math.random() * request.keys.length)] as string;
  const every = request.durationMs / Math.max(1, request.invalidations);
  let n = 0;
  // Each instance first writes every key (a write fills its own L1), so its L1 has copies to serve
  // from the start even where the store answers slowly (DynamoDB Local on a loaded machine).
  for (const key of request.keys) {
    const start = now();
    const value = `${process.pid}-${n++}`;
    await cache.tags([tagOf(key), 'all']).set(key, value, '10m');
    ops.push({ kind: 'set', keys: [key], value, start, end: now() });
  }
  // The random part runs its whole duration after those writes, however long they took: on a
  // loaded runner DynamoDB Local once took the whole window for them (no read, no invalidation).
  const from = now();
  let nextInvalidation = from + Math.random() * every;
  while (now() < from + request.durationMs) {
    const start = now();
    try {
      if (start >= nextInvalidation) {
        nextInvalidation += every * (0.5 + Math.random());
        // Mostly tags (one or two keys' tags, sometimes the group tag: every key), sometimes plain deletes + syncL1.
        const dice = Math.random();
        const keys = dice < 0.15 ? [...request.keys] : [...new Set([pick(), pick()])];
        if (dice < 0.15) await cache.invalidateTags(['all']);
        else if (dice < 0.8) await cache.invalidateTags(keys.map(tagOf));
        else await invalidate(cache, keys);
        ops.push({ kind: 'invalidate', keys, value: null, start, end: now() });
      } else if (Math.random() < 0.08) {
        const key = pick();
        const value = `${process.pid}-${n++}`;
        await cache.tags([tagOf(key), 'all']).set(key, value, '10m');
        ops.push({ kind: 'set', keys: [key], value, start, end: now() });
      } else {
        const key = pick();
        lastHitTier = undefined;
        const value = (await cache.get<string>(key)) ?? null;
        ops.push({ kind: 'get', keys: [key], value, start, end: now(), tier: lastHitTier });
      }
    } catch (error) {
      ops.push({ kind: 'get', keys: [], value: `error: ${(error as Error).message}`, start, end: now() });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() < 0.5 ? 0 : 1));
  }
  return ops;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
