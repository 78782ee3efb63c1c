/**
 * The soak: mixed load through the facade on every driver at once for N seconds, sampling heap
 * (after a full GC), handles and timers for the whole process; growth fails the run.
 * See bench/src/soak/README.md.
 */
import { type Backend, DRIVERS, type Driver, startBackend } from './backends';
import { type LoadCounts, runLoad } from './load';
import { type Sample, sample, slope } from './sample';

/** Options of `runSoak`. */
export interface SoakOptions {
  /** Seconds of load (every driver at once). @default 600 */
  seconds?: number;
  /** Drivers to load. @default all */
  drivers?: readonly string[];
  /** Starts a driver's backend (tests inject leaky ones). @default startBackend */
  start?: (driver: string) => Promise<Backend>;
  /** Limits; see `Limits`. */
  limits?: Partial<Limits>;
}

/** What counts as growth. */
export interface Limits {
  /** Heap slope after warm-up that fails, MiB per minute (only together with `heapGrowthMiB`). */
  heapSlopeMiBPerMin: number;
  /** Heap growth over the measured window (slope × window) that fails, MiB. */
  heapGrowthMiB: number;
  /** Handles or timers allowed above the first sample after warm-up, when the load stops. */
  slack: number;
  /** Handles or timers allowed above the baseline (before any store opened) once every store is closed. */
  closeSlack: number;
}

const DEFAULT_LIMITS: Limits = { heapSlopeMiBPerMin: 0.5, heapGrowthMiB: 2, slack: 2, closeSlack: 0 };

/** The figures of a run. */
export interface SoakResult {
  seconds: number;
  /** Calls and errors per driver. */
  drivers: { driver: string; counts: LoadCounts }[];
  /** Warm-up (not measured for growth), ms. */
  warmupMs: number;
  /** Before any store was opened (servers already running). */
  before: Sample;
  /** First sample after warm-up. */
  start: Sample;
  /** When the load stopped (stores still open). */
  end: Sample;
  /** After every store was closed. */
  closed: Sample;
  /** Heap slope after warm-up, MiB/min. */
  heapSlope: number;
  /** Heap growth over the measured window (slope × window), MiB. */
  heapGrowth: number;
  /** Every sample, warm-up included. */
  samples: Sample[];
  /** Why the run failed; empty if it passed. */
  failures: string[];
}

const MiB = 1024 * 1024;

/** Starts the backends, runs the load on all of them at once, stops them; resolves the figures. */
export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const drivers = options.drivers ?? DRIVERS;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const start = options.start ?? ((driver: string) => startBackend(driver as Driver));
  const backends: Backend[] = [];
  try {
    for (const driver of drivers) backends.push(await start(driver));
    const result = await measure(drivers, backends, (options.seconds ?? 600) * 1000);
    result.failures = judge(result, limits);
    return result;
  } finally {
    for (const backend of backends) await backend.stop();
  }
}

async function measure(drivers: readonly string[], backends: Backend[], durationMs: number): Promise<SoakResult> {
  const origin = performance.now();
  const before = sample(origin);
  const stores = await Promise.all(backends.map((backend) => backend.open()));
  // A third of the run (at most a minute) fills the key spaces, opens connections and lets the
  // JIT settle (DynamoDB's SDK path, at a few hundred calls/s, takes about 20 s).
  const warmupMs = Math.min(60_000, durationMs / 3);
  const samples: Sample[] = [];
  const timer = setInterval(() => samples.push(sample(origin)), Math.min(5_000, Math.max(500, durationMs / 60)));
  let counts: LoadCounts[];
  let end: Sample;
  try {
    const until = origin + durationMs;
    counts = await Promise.all(
      stores.map((store, i) => runLoad({ store, open: (backends[i] as Backend).open, until })),
    );
    end = sample(origin);
    samples.push(end);
  } finally {
    clearInterval(timer);
    await Promise.all(stores.map((store) => store.close?.()));
  }
  const closed = await settle(origin, before);
  const measured = samples.filter((s) => s.at >= warmupMs);
  const heapSlope = slope(measured.map((s) => ({ x: s.at / 60_000, y: s.heap / MiB })));
  const windowMin = ((measured.at(-1)?.at ?? 0) - (measured[0]?.at ?? 0)) / 60_000;
  return {
    seconds: durationMs / 1000,
    drivers: drivers.map((driver, i) => ({ driver, counts: counts[i] as LoadCounts })),
    warmupMs,
    before,
    start: measured[0] ?? end,
    end,
    closed,
    heapSlope,
    heapGrowth: heapSlope * windowMin,
    samples,
    failures: [],
  };
}

/** Waits (up to 5 s) for handles and timers to drop back to the baseline after closing; the last sample. */
async function settle(origin: number, before: Sample): Promise<Sample> {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const now = sample(origin);
    if ((now.handles <= before.handles && now.timers <= before.timers) || performance.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The reasons a run fails (pure: unit-tested on made-up figures). */
export function judge(result: Omit<SoakResult, 'failures'>, limits: Limits = DEFAULT_LIMITS): string[] {
  const failures: string[] = [];
  const { before, start, end, closed } = result;
  for (const { driver, counts } of result.drivers) {
    if (counts.unexpectedErrors > 0) {
      failures.push(`${driver}: ${counts.unexpectedErrors} unexpected errors (${counts.samples.join('; ')})`);
    }
  }
  if (result.heapSlope > limits.heapSlopeMiBPerMin && result.heapGrowth > limits.heapGrowthMiB) {
    failures.push(
      `heap grew ${result.heapSlope.toFixed(2)} MiB/min (${result.heapGrowth.toFixed(2)} MiB) after warm-up`,
    );
  }
  if (end.handles > start.handles + limits.slack)
    failures.push(`handles grew under load: ${start.handles} -> ${end.handles}`);
  if (end.timers > start.timers + limits.slack)
    failures.push(`timers grew under load: ${start.timers} -> ${end.timers}`);
  if (closed.handles > before.handles + limits.closeSlack) {
    failures.push(`handles left after close: ${closed.handles} (before open: ${before.handles})`);
  }
  if (closed.timers > before.timers + limits.closeSlack) {
    failures.push(`timers left after close: ${closed.timers} (before open: ${before.timers})`);
  }
  return failures;
}
