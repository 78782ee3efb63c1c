// Drives instances of the L1 barrier tests (instance.ts), each in its own OS process, and checks histories.
import { fileURLToPath } from 'node:url';
import { forkIpcInstance, type IpcInstance } from '../ipc-instance';
import type { BarrierSpec, Op, Reply, Request } from './protocol';

const INSTANCE = fileURLToPath(new URL('./instance.ts', import.meta.url));

/** One instance process. */
export type Instance = IpcInstance<Request, Reply>;

/** Forks one instance per spec and waits until each one's L1 serves. */
export function forkInstances(specs: readonly BarrierSpec[]): Promise<Instance[]> {
  return Promise.all(specs.map(forkOne));
}

function forkOne(spec: BarrierSpec): Promise<Instance> {
  return forkIpcInstance<Request, Reply>(INSTANCE, { LARDER_BARRIER: JSON.stringify(spec) }, 'barrier instance');
}

/** What `checkHistory` found. */
export interface BarrierCheck {
  reads: number;
  l1Reads: number;
  invalidations: number;
  /** Reads that began after a hard invalidation of their key resolved and returned a value written before that invalidation began: must be 0. */
  stale: Op[];
  /** Operations that failed (a barrier error included). */
  errors: string[];
  /** Hard invalidation durations (delete + barrier) in ms, sorted. */
  latencies: number[];
}

/**
 * Checks a merged history: after an invalidation of key k resolved (at `end`), no read of k that
 * starts later returns a value whose set completed before the invalidation began.
 */
export function checkHistory(ops: readonly Op[]): BarrierCheck {
  const sets = new Map<string, Op>();
  for (const op of ops) if (op.kind === 'set' && op.value !== null) sets.set(op.value, op);
  const invalidations = ops.filter((op) => op.kind === 'invalidate');
  const result: BarrierCheck = {
    reads: 0,
    l1Reads: 0,
    invalidations: invalidations.length,
    stale: [],
    errors: [],
    latencies: invalidations.map((op) => op.end - op.start).sort((a, b) => a - b),
  };
  for (const op of ops) {
    if (op.value?.startsWith('error:')) {
      result.errors.push(op.value);
      continue;
    }
    if (op.kind !== 'get') continue;
    result.reads++;
    if (op.tier === 'l1') result.l1Reads++;
    if (op.value === null) continue;
    const written = sets.get(op.value);
    if (written === undefined) continue;
    const key = op.keys[0] as string;
    const stale = invalidations.some((inv) => inv.keys.includes(key) && inv.end < op.start && written.end < inv.start);
    if (stale) result.stale.push(op);
  }
  return result;
}

/** `p` (0-1) percentile of sorted `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  return values[Math.min(values.length - 1, Math.floor(p * values.length))] as number;
}

/** Prints and returns one line about a checked history. */
export function report(label: string, check: BarrierCheck): string {
  const ms = (p: number) => `${percentile(check.latencies, p).toFixed(1)} ms`;
  const line = `L1 barrier, ${label}: invalidate+barrier p50 ${ms(0.5)}, p99 ${ms(0.99)}, max ${ms(1)} (n=${check.invalidations}); reads ${check.reads} (${check.l1Reads} from L1), stale ${check.stale.length}, errors ${check.errors.length}`;
  console.log(line);
  return line;
}
