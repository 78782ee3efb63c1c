/**
 * The benchmark runner. A scenario is one file in `bench/src/scenarios/` exporting a `Scenario`;
 * `pnpm bench` runs them all in one process, one after another, and prints a markdown table per
 * scenario. See bench/README.md for the interface and how to add one.
 */

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pinForClients, pinForServers } from './pin';

/** One measured operation, e.g. "get (hit)" through "keyv". */
export interface BenchCase<Ctx> {
  /** Operation, the row group of the table (e.g. `get (hit)`); ratios compare cases of the same op. */
  op: string;
  /** Who does it (e.g. `larder`, `keyv`, `raw ioredis`). */
  subject: string;
  /** Runs one operation; `i` counts up from 0 within the case (use it to vary keys). */
  run(ctx: Ctx, i: number): unknown;
  /** Operations kept in flight at once (each worker awaits its previous call). @default scenario.concurrency ?? 1 */
  concurrency?: number;
  /** Runs once before the case's warm-up (e.g. to prime keys). */
  before?(ctx: Ctx): unknown;
  /** Runs once after the case. */
  after?(ctx: Ctx): unknown;
}

/** A custom per-operation column, e.g. "backend commands/op": read before and after each case. */
export interface CounterColumn<Ctx> {
  /** Column title. */
  name: string;
  /** Current counter value (e.g. total commands processed by the server); `undefined` shows a dash. */
  read(ctx: Ctx, benchCase: BenchCase<Ctx>): number | undefined | Promise<number | undefined>;
  /** Digits after the point. @default 2 */
  digits?: number;
}

/** A ratio the scenario promises, checked and printed under the table. */
export interface Target {
  op: string;
  subject: string;
  /** The other subject of the same op. */
  over: string;
  /** Minimum `subject ops/s ÷ over ops/s`. */
  atLeast: number;
}

/** A benchmark scenario: one file in `bench/src/scenarios/`. */
export interface Scenario<Ctx = unknown> {
  /** Name used on the command line (`pnpm bench <name>`) and as the results file name. */
  name: string;
  /** One sentence shown above the table: what is compared, on which workload. */
  description: string;
  /** Subject every ratio is computed against (within each op). */
  baseline: string;
  /** Starts servers and clients; the result is passed to every case. */
  setup(): Promise<Ctx>;
  /** The cases, in table order; a function may build them from the context. */
  cases: BenchCase<Ctx>[] | ((ctx: Ctx) => BenchCase<Ctx>[]);
  /** Stops everything `setup` started. Runs even when a case fails. */
  teardown?(ctx: Ctx): Promise<void>;
  /** Default in-flight operations per case. @default 1 */
  concurrency?: number;
  /**
   * What "per second" means. `wall`: elapsed time (use it whenever a server does part of the
   * work). `cpu`: this process's CPU time, for in-process scenarios: the ratios then hold on a
   * loaded machine, where wall time depends on what else runs. Or a clock of the caller's, in ms
   * (the harness's tests: time that only the cases move). @default 'wall'
   */
  clock?: 'wall' | 'cpu' | (() => number);
  /** Extra per-operation columns. */
  counters?: CounterColumn<Ctx>[];
  /** Ratios the scenario must reach; printed as met/missed under the table. */
  targets?: Target[];
  /** Notes printed under the table (workload details, versions). */
  notes?: string[];
  /**
   * Run each subject in a child process of its own (see isolate.ts): for in-process libraries,
   * which otherwise share V8's type feedback of common modules (lru-cache under three subjects)
   * and each other's garbage. `setup` then sees the subject in `process.env.LARDER_BENCH_SUBJECT`.
   */
  isolate?: { subjects: readonly string[] };
  /** Runs before each case's warm-up in every round, once the harness collected its own garbage (an app process collects its own). */
  beforeCase?(ctx: Ctx, c: BenchCase<Ctx>): Promise<void>;
}

/** How long to measure. */
export interface RunOptions {
  /** Warm-up per case and round, ms. @default 200 */
  warmupMs: number;
  /** Measured time per case and round, ms. @default 600 */
  timeMs: number;
  /** Rounds; cases are interleaved round-robin and the median round is reported. @default 3 */
  rounds: number;
  /** Progress output (stderr). */
  progress: Progress;
  /** Servers on one CPU, this process on another (`--pin`, pin.ts). @default false */
  pin?: boolean;
  /** Only the cases whose operation contains this text (`--only`); every case when absent. */
  only?: string;
  /** No full GC forced before each case (`--skip-gc`; see bench/README.md "How cases are measured"). @default false */
  skipGc?: boolean;
}

/** Result of one case. */
export interface CaseResult {
  op: string;
  subject: string;
  concurrency: number;
  /** Median ops/s over the rounds. */
  opsPerSec: number;
  /** Largest deviation of a round from the median, in percent. */
  spreadPct: number;
  /** Total operations measured. */
  ops: number;
  /** Counter columns, per operation. */
  counters: (number | undefined)[];
  error?: string;
}

/** Result of one scenario. */
export interface ScenarioResult {
  scenario: Scenario<never>;
  results: CaseResult[];
  error?: string;
}

/** Progress reporting: a redrawn status line on a TTY, one line per finished case otherwise. */
export class Progress {
  readonly #tty: boolean;
  #lastLength = 0;

  constructor(readonly stream: NodeJS.WriteStream = process.stderr) {
    this.#tty = Boolean(stream.isTTY);
  }

  /** Shows what runs now (TTY only). */
  status(text: string): void {
    if (!this.#tty) return;
    const width = (this.stream.columns ?? 100) - 1;
    const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.#lastLength - line.length))}`);
    this.#lastLength = line.length;
  }

  /** Prints a lasting line. */
  log(text: string): void {
    if (this.#tty && this.#lastLength > 0) {
      this.stream.write(`\r${' '.repeat(this.#lastLength)}\r`);
      this.#lastLength = 0;
    }
    this.stream.write(`${text}\n`);
  }
}

/** A clock in ms: wall time, or this process's CPU time (user + system, all threads). */
type Clock = () => number;
const wallClock: Clock = () => performance.now();
const cpuClock: Clock = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Runs `run` with `concurrency` workers until `ms` of `clock` time have passed; returns the
 * operations completed and the clock time used. Workers check the clock once per batch, sized
 * so a batch takes about a millisecond (the clock itself then costs nothing measurable).
 */
async function measure<Ctx>(
  c: BenchCase<Ctx>,
  ctx: Ctx,
  concurrency: number,
  ms: number,
  state: { i: number; batch: number },
  clock: Clock,
) {
  const start = clock();
  const end = start + ms;
  let ops = 0;
  let stop = false;
  const work = async () => {
    while (!stop) {
      const batch = state.batch;
      const t0 = performance.now();
      let k = 0;
      // `stop` is also checked inside a batch: a worker that failed stops the others at once.
      for (; k < batch && !stop; k++) await c.run(ctx, state.i++);
      ops += k;
      const took = performance.now() - t0;
      if (took < 0.5 && batch < 1 << 16) state.batch = batch * 2;
      else if (took > 4 && batch > 1) state.batch = batch >> 1;
      if (clock() >= end) stop = true;
    }
  };
  // A failing worker stops the others, and the case ends only when none is still calling `run`
  // (otherwise they would keep calling it into the next case or the teardown).
  const worker = () =>
    work().catch((error: unknown) => {
      stop = true;
      throw error;
    });
  const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return { ops, elapsed: clock() - start };
}

/** Why a scenario did not run under `--only <text>`: none of its cases' operations contains the text. */
export const noCaseContains = (only: string) => `no case's operation contains '${only}'`;

/** The result of a scenario that could not run: no rows, the reason logged and kept as its error. */
export function notRun<Ctx>(scenario: Scenario<Ctx>, error: string, progress: Progress): ScenarioResult {
  progress.log(`✗ ${scenario.name}: ${error}`);
  return { scenario: scenario as unknown as Scenario<never>, results: [], error };
}

/** Runs one scenario: setup, the cases interleaved over `rounds`, teardown. */
export async function runScenario<Ctx>(scenario: Scenario<Ctx>, options: RunOptions): Promise<ScenarioResult> {
  const { progress } = options;
  progress.log(`▶ ${scenario.name}: setting up`);
  let ctx: Ctx;
  try {
    if (options.pin) pinForServers();
    ctx = await scenario.setup();
  } catch (error) {
    return notRun(scenario, `setup failed: ${message(error)}`, progress);
  } finally {
    if (options.pin) pinForClients();
  }
  try {
    let cases: BenchCase<Ctx>[];
    try {
      cases = typeof scenario.cases === 'function' ? scenario.cases(ctx) : scenario.cases;
      const only = options.only;
      if (only !== undefined) {
        cases = cases.filter((c) => c.op.includes(only));
        if (cases.length === 0) return notRun(scenario, noCaseContains(only), progress);
      }
    } catch (error) {
      // Reported like a failed setup (the teardown below still runs), so the next scenarios run.
      return notRun(scenario, `cases failed: ${message(error)}`, progress);
    }
    const counters = scenario.counters ?? [];
    const clock =
      typeof scenario.clock === 'function' ? scenario.clock : scenario.clock === 'cpu' ? cpuClock : wallClock;
    const state = cases.map((c) => ({
      c,
      concurrency: c.concurrency ?? scenario.concurrency ?? 1,
      rates: [] as number[],
      ops: 0,
      counterTotals: counters.map(() => 0 as number | undefined),
      counter: { i: 0, batch: 1 },
      error: undefined as string | undefined,
    }));
    for (const s of state) {
      try {
        await s.c.before?.(ctx);
      } catch (error) {
        s.error = message(error);
      }
    }
    const total = cases.length * options.rounds;
    let done = 0;
    for (let round = 1; round <= options.rounds; round++) {
      for (const s of state) {
        done++;
        if (s.error) continue;
        progress.status(
          `  ${scenario.name} [${done}/${total}] round ${round}/${options.rounds} · ${s.c.op} · ${s.c.subject}` +
            (s.concurrency > 1 ? ` ×${s.concurrency}` : ''),
        );
        try {
          // Collect first, so the previous case's garbage (and its background GC threads, which a
          // CPU clock counts) is not charged to this one. Needs --expose-gc (the bench script sets it).
          if (!options.skipGc) globalThis.gc?.();
          await scenario.beforeCase?.(ctx, s.c);
          await measure(s.c, ctx, s.concurrency, options.warmupMs, s.counter, clock);
          const before = await Promise.all(counters.map((col) => col.read(ctx, s.c)));
          const { ops, elapsed } = await measure(s.c, ctx, s.concurrency, options.timeMs, s.counter, clock);
          const after = await Promise.all(counters.map((col) => col.read(ctx, s.c)));
          s.rates.push((ops / elapsed) * 1000);
          s.ops += ops;
          s.counterTotals = s.counterTotals.map((sum, k) => {
            const a = after[k];
            const b = before[k];
            return sum === undefined || a === undefined || b === undefined ? undefined : sum + (a - b);
          });
        } catch (error) {
          s.error = message(error);
          progress.log(`  ✗ ${s.c.op} · ${s.c.subject}: ${s.error}`);
        }
      }
    }
    const results: CaseResult[] = [];
    for (const s of state) {
      try {
        await s.c.after?.(ctx);
      } catch {
        // An after hook failing does not spoil a measurement already taken.
      }
      const sorted = [...s.rates].sort((a, b) => a - b);
      const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
      const spread = median ? Math.max(...sorted.map((r) => Math.abs(r - median))) / median : 0;
      results.push({
        op: s.c.op,
        subject: s.c.subject,
        concurrency: s.concurrency,
        opsPerSec: median,
        spreadPct: spread * 100,
        ops: s.ops,
        counters: s.counterTotals.map((sum) => (sum === undefined || s.ops === 0 ? undefined : sum / s.ops)),
        error: s.error,
      });
    }
    progress.log(`✓ ${scenario.name}: ${results.length} cases`);
    return { scenario: scenario as unknown as Scenario<never>, results };
  } finally {
    try {
      await scenario.teardown?.(ctx);
    } catch (error) {
      progress.log(`  teardown of ${scenario.name} failed: ${message(error)}`);
    }
  }
}

/** Machine, runtime and date, for results files. */
export function machineInfo(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
    model = /Model name:\s*(.+)/.exec(lscpu)?.[1]?.trim() ?? model;
  } catch {
    // lscpu is Linux-only; os.cpus() is the fallback.
  }
  const memGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${os.cpus().length} cores, ${memGiB} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
