// Drives instances of the L1 coherence tests (instance.ts), each in its own OS process.
import { fileURLToPath } from 'node:url';
import { forkIpcInstance, type IpcInstance } from '../ipc-instance';
import { now } from './clock';
import type { CoherenceSpec, HistoryOp, Reply, Request } from './protocol';

const INSTANCE = fileURLToPath(new URL('./instance.ts', import.meta.url));

/** One instance process. */
export type Instance = IpcInstance<Request, Reply>;

/** Forks `count` instances on `spec` and waits until each one's L1 is up. */
export async function forkInstances(spec: CoherenceSpec, count = 2): Promise<Instance[]> {
  return Promise.all(Array.from({ length: count }, () => forkOne(spec)));
}

function forkOne(spec: CoherenceSpec): Promise<Instance> {
  return forkIpcInstance<Request, Reply>(INSTANCE, { LARDER_COHERENCE: JSON.stringify(spec) }, 'coherence instance');
}

/** What `runWrites` measured. */
export interface Coherence {
  /** Invalidation delay in ms (writer's set resolved -> reader saw the value), sorted. */
  delays: number[];
  /** Reads of an older value after the key's invalidation had arrived: must be 0. */
  stale: number;
  /** Writes whose value the reader did not see within the timeout. */
  unseen: number;
  /**
   * Arrival delay in ms (writer's set resolved -> the key's invalidation reached the reader's L1; 0
   * when it came first), sorted. `delays` adds the reader's next read (a Redis round trip) and the
   * turns of its read loop; this is the invalidation alone.
   */
  arrivals?: number[];
  /** `delays` in round order (the slowest round is often the first: code not yet compiled in the processes). */
  byRound?: number[];
}

/**
 * `rounds` writes of an increasing number by `writer`, each watched by `reader` (which held the
 * previous value in its L1). `write` replaces the writer's set (e.g. a plain redis-cli), and
 * `during(round)` runs before a round (e.g. a failover).
 */
export async function runWrites(
  writer: Instance | ((value: number) => Promise<number>),
  reader: Instance,
  key: string,
  rounds: number,
  options: { start?: number; timeoutMs?: number; during?: (round: number) => Promise<void> } = {},
): Promise<Coherence> {
  const result: Coherence = { delays: [], stale: 0, unseen: 0, arrivals: [], byRound: [] };
  const start = options.start ?? 1;
  for (let round = 0; round < rounds; round++) {
    const value = start + round;
    await options.during?.(round);
    // The reader holds the previous value in its L1 (two reads: the second is an L1 hit when up).
    // (A read failing while the backend fails over is fine here.)
    await reader.call({ op: 'get', key }).catch(() => undefined);
    await reader.call({ op: 'get', key }).catch(() => undefined);
    const watching = reader.call({ op: 'watch', key, value, timeoutMs: options.timeoutMs ?? 5000 });
    const sentAt = now();
    const wroteAt = typeof writer === 'function' ? await writer(value) : await setRetrying(writer, key, value);
    const seen = await watching;
    // This write's invalidation came after it was sent: an earlier arrival is a late one of the
    // previous round (its reader saw that value from the store, past an L1 it was not using), and
    // reads after it of the older value are not stale (this write may not have landed yet).
    const needed = seen.needed ?? 1;
    const arrived = (seen.arrivals ?? []).filter((at) => at >= sentAt)[needed - 1];
    if (arrived !== undefined) result.stale += (seen.olderReads ?? []).filter((began) => began > arrived).length;
    if (seen.at === undefined) result.unseen++;
    else result.delays.push(Math.max(0, seen.at - wroteAt));
    if (seen.at !== undefined) result.byRound?.push(Math.max(0, seen.at - wroteAt));
    if (arrived !== undefined) result.arrivals?.push(Math.max(0, arrived - wroteAt));
  }
  result.delays.sort((a, b) => a - b);
  result.arrivals?.sort((a, b) => a - b);
  return result;
}

/** A set that retries while the backend fails over; resolves when the write was acknowledged. */
async function setRetrying(writer: Instance, key: string, value: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return (await writer.call({ op: 'set', key, value })).at as number;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** `p` (0-1) percentile of sorted `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  return values[Math.min(values.length - 1, Math.floor(p * values.length))] as number;
}

/** Prints and returns `label: p50 x ms, p99 y ms (n)`. */
export function report(label: string, coherence: Coherence): string {
  const ms = (values: readonly number[], p: number) => `${percentile(values, p).toFixed(2)} ms`;
  let line = `L1 invalidation delay, ${label}: p50 ${ms(coherence.delays, 0.5)}, p99 ${ms(coherence.delays, 0.99)} (n=${coherence.delays.length}, stale reads ${coherence.stale})`;
  // With n below 100, "p99" is the slowest sample: say which round it was, and the arrival alone.
  const rounds = coherence.byRound ?? [];
  if (rounds.length > 0) {
    const slowest = rounds.indexOf(Math.max(...rounds));
    line += `; slowest: round ${slowest + 1} of ${rounds.length}`;
  }
  const arrivals = coherence.arrivals ?? [];
  if (arrivals.length > 0)
    line += `; invalidation arrival after the write resolved: p50 ${ms(arrivals, 0.5)}, p99 ${ms(arrivals, 0.99)}`;
  console.log(line);
  return line;
}

/** What `checkHistory` found. */
export interface HistoryCheck {
  reads: number;
  writes: number;
  /** Reads whose value had been overwritten more than `windowMs` before the read began. */
  violations: HistoryOp[];
  /** Longest time a read's value had been overwritten when the read began (ms; 0 when every read was current). */
  maxStalenessMs: number;
}

/**
 * Checks a merged history: every read returns a value that was current at some point during the
 * read — written (or deleted, or never written) by an operation that began before the read
 * ended, and not overwritten by an operation that completed before the read began — or whose
 * overwrite completed at most `windowMs` before the read began (the invalidation delay window),
 * plus the time the reading process was not running just before (`stalledMs`). A write that threw
 * (`failed`) may have produced a value read, but overwrote nothing for certain.
 */
export function checkHistory(ops: readonly HistoryOp[], windowMs: number): HistoryCheck {
  const writes = ops.filter((op) => op.kind !== 'get');
  const reads = ops.filter((op) => op.kind === 'get');
  const result: HistoryCheck = { reads: reads.length, writes: writes.length, violations: [], maxStalenessMs: 0 };
  for (const read of reads) {
    const sameKey = writes.filter((w) => w.key === read.key);
    // Candidates that could have produced the value read.
    const sources = sameKey.filter(
      (w) => w.start < read.end && (read.value === null ? w.kind === 'delete' : w.value === read.value),
    );
    const neverWritten = read.value === null;
    let staleness = Number.POSITIVE_INFINITY;
    for (const source of sources) {
      // The latest overwrite of `source` completed before the read began.
      // A write that threw may not have landed: it overwrites nothing for certain.
      const overwrites = sameKey.filter((w) => w !== source && !w.failed && w.start > source.end && w.end < read.start);
      const overwrittenAt = Math.max(...overwrites.map((w) => w.end), Number.NEGATIVE_INFINITY);
      staleness = Math.min(staleness, overwrites.length === 0 ? 0 : read.start - overwrittenAt);
    }
    if (neverWritten) {
      // Absent from the start: current until the first write of the key completed.
      const first = Math.min(...sameKey.filter((w) => !w.failed).map((w) => w.end), Number.POSITIVE_INFINITY);
      staleness = Math.min(staleness, first >= read.start ? 0 : read.start - first);
    }
    if (staleness > 0 && Number.isFinite(staleness)) result.maxStalenessMs = Math.max(result.maxStalenessMs, staleness);
    if (staleness > windowMs + (read.stalledMs ?? 0)) result.violations.push(read);
  }
  return result;
}
