/**
 * The remember bench's loaders (counted) and callers (timed): a source that is slow or down, a
 * burst of concurrent callers, and a steady request rate per instance.
 */
import { performance } from 'node:perf_hooks';
import { waitFor } from '@larder/dev-services';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A source behind the loaders: answers after `ms`, or (`down`) fails after `ms`; counts every run. */
export class Source {
  /** Start time (`performance.now()`) of each loader run. */
  readonly starts: number[] = [];
  #running = 0;

  constructor(
    readonly mode: 'slow' | 'down',
    readonly ms: number,
  ) {}

  /** The loader every library is given. */
  readonly load = async (): Promise<string> => {
    this.starts.push(performance.now());
    this.#running++;
    try {
      await sleep(this.ms);
      if (this.mode === 'down') throw new Error('source down');
      return `v${this.starts.length}`;
    } finally {
      this.#running--;
    }
  };

  get runs(): number {
    return this.starts.length;
  }

  /** Resolves once no run is in flight (background refreshes included). */
  async settled(timeoutMs: number): Promise<void> {
    await waitFor(() => this.#running === 0, { timeoutMs, intervalMs: 10, description: 'the loaders to settle' });
  }
}

/** Latencies (ms) of the calls that answered, and how many rejected. */
export interface Calls {
  latencies: number[];
  failed: number;
}

export const newCalls = (): Calls => ({ latencies: [], failed: 0 });

/** Times `call`, into `calls` (a rejection counts as failed, its time is not a latency). */
export function timed(calls: Calls, call: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  return call().then(
    () => {
      calls.latencies.push(performance.now() - started);
    },
    () => {
      calls.failed++;
    },
  );
}

/**
 * Runs `tick(i)` on each of `n` instances at `rps` per instance for `ms` (the instances' ticks
 * staggered across the gap), never awaiting a tick before the next one; resolves when every
 * promise the ticks returned has settled. A late timer (a loaded machine) is caught up at once.
 */
export async function steadyLoad(
  n: number,
  rps: number,
  ms: number,
  tick: (i: number) => Promise<unknown>[],
): Promise<void> {
  const gap = 1000 / rps;
  const start = performance.now();
  const end = start + ms;
  const pending: Promise<unknown>[] = [];
  const loop = async (i: number) => {
    for (let next = start + (gap * i) / n; next < end; next += gap) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(...tick(i));
    }
  };
  await Promise.all(Array.from({ length: n }, (_, i) => loop(i)));
  await Promise.all(pending);
}

/** Nearest-rank percentile `p` (0–100) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))] as number;
}

/** Groups loader starts into refreshes: a start more than `gapMs` after the previous one opens a new group. */
export function refreshes(starts: readonly number[], gapMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let groups = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const at of sorted) {
    if (at - last > gapMs) groups++;
    last = at;
  }
  return groups;
}
