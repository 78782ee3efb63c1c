/**
 * `pnpm bench [scenario...] [--time ms] [--warmup ms] [--rounds n] [--write]`
 * Runs the scenarios of bench/src/scenarios/ in this one process and prints a markdown table
 * per scenario on stdout (progress on stderr). `--write` also saves bench/results/<scenario>.md.
 */

import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { staleBuilds } from './built-packages';
import { runFleet } from './fleet';
import { machineInfo, Progress, runScenario, type Scenario, type ScenarioResult } from './harness';
import { runIsolated } from './isolate';
import { runKeptBytes } from './kept-bytes';
import { canPin } from './pin';
import { runRemember } from './remember-bench';
import { formatScenario } from './scenario-table';
import { runValues } from './value-pipeline';

const here = path.dirname(fileURLToPath(import.meta.url));
const scenariosDir = path.join(here, 'scenarios');
const resultsDir = path.join(here, '..', 'results');

// Where each scenario was loaded from (isolated scenarios load it again in their child processes).
const scenarioFiles = new Map<Scenario<unknown>, string>();

async function loadScenarios(): Promise<Scenario<unknown>[]> {
  const files = (await readdir(scenariosDir)).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const scenarios: Scenario<unknown>[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(scenariosDir, file)).href)) as {
      default?: Scenario<unknown>;
      scenario?: Scenario<unknown>;
    };
    const scenario = mod.scenario ?? mod.default;
    if (!scenario?.name || !scenario.setup)
      throw new Error(`${file} exports no Scenario (export const scenario = {...})`);
    scenarios.push(scenario);
    scenarioFiles.set(scenario, path.join(scenariosDir, file));
  }
  return scenarios;
}

async function main(): Promise<number> {
  // The fleet report is no ops/s table: its own runner (fleet.ts).
  if (process.argv[2] === 'fleet') {
    await runFleet(process.argv.slice(3));
    return 0;
  }
  // The value pipeline's sizes and CPU against keyv: its own table too (value-pipeline.ts).
  if (process.argv[2] === 'values') {
    await runValues(process.argv.slice(3));
    return 0;
  }
  // The memory that kept bytes hold, per entry: its own table too (kept-bytes.ts).
  if (process.argv[2] === 'kept-bytes') {
    await runKeptBytes(process.argv.slice(3));
    return 0;
  }
  // remember against bentocache and cache-manager when the source is slow, down or hot: its own table (remember-bench.ts).
  if (process.argv[2] === 'remember') {
    await runRemember(process.argv.slice(3));
    return 0;
  }
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      time: { type: 'string', default: '600' },
      // After the harness's full GC before each case the process needs about a second to settle
      // (bench/README.md "How cases are measured").
      warmup: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      write: { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      only: { type: 'string' },
      'skip-gc': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: pnpm bench [scenario...] [--time ms=600] [--warmup ms=1000] [--rounds n=3] [--only text] [--skip-gc] [--write] [--pin] [--list]\n',
    );
    return 0;
  }
  const all = await loadScenarios();
  if (values.list) {
    for (const s of all) process.stdout.write(`${s.name}\t${s.description}\n`);
    process.stdout.write(
      'fleet\tWhat an L1 fleet (CLIENT TRACKING) costs one Redis (single node and a 3-master Cluster) at N = 1, 8, 32, 128 instances (`--sizes`): idle traffic and store writes, a write, a barrier, memcached and DynamoDB Local with the bus (on a node and on a Cluster), the invalidation delay and re-reads of a key every instance holds, a barrier with one instance frozen by SIGSTOP at N = 3 and 128 (fleet.ts).\n',
    );
    process.stdout.write(
      "kept-bytes\tThe memory bytes kept by larder hold per entry: the memory store's copies of Buffer values (clone and useCodec, 200 B and 2 KB) against the pool copy it kept before, and an L1 over Redis reading 2 KB msgpack entries alone and beside a 30 KB read (kept-bytes.ts).\n",
    );
    process.stdout.write(
      'remember\tremember vs bentocache getOrSet vs cache-manager wrap, 8 instances on one Redis: a slow loader, the source down, a hot key; scaled down by default, `--full` for the issue’s lengths (about 14 min) (remember-bench.ts).\n',
    );
    return 0;
  }
  const unknown = positionals.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`unknown scenario ${unknown.join(', ')}; available: ${all.map((s) => s.name).join(', ')}\n`);
    return 2;
  }
  const stale = staleBuilds();
  if (stale.length > 0) {
    process.stderr.write(
      `the bench measures the built packages; run \`pnpm build\` first (stale: ${stale.join(', ')})\n`,
    );
    return 2;
  }
  const selected = positionals.length > 0 ? all.filter((s) => positionals.includes(s.name)) : all;
  const options = {
    timeMs: positiveNumber(values.time, '--time'),
    warmupMs: positiveNumber(values.warmup, '--warmup', true),
    rounds: positiveNumber(values.rounds, '--rounds'),
    progress: new Progress(),
    pin: values.pin && canPin(),
    only: values.only,
    skipGc: values['skip-gc'],
  };
  if (values.pin && !options.pin) process.stderr.write('--pin: needs 2 CPUs and taskset; running unpinned\n');
  const machine = machineInfo();
  const pinned = options.pin ? ' Servers pinned to CPU 1, the bench process to CPU 0 (`--pin`).' : '';
  const collected = options.skipGc ? ' No GC forced before each case (`--skip-gc`).' : '';
  process.stdout.write(`## larder benchmarks\n\n${machine}${pinned}${collected}\n\n`);
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    const result = scenario.isolate
      ? await runIsolated(scenario, scenarioFiles.get(scenario) as string, options)
      : await runScenario(scenario, options);
    results.push(result);
    const table = formatScenario(result, options.only);
    process.stdout.write(`${table}\n`);
    if (values.write && !result.error) {
      await mkdir(resultsDir, { recursive: true });
      const file = path.join(resultsDir, `${scenario.name}.md`);
      const how = `\`pnpm bench ${scenario.name} --time ${options.timeMs} --warmup ${options.warmupMs} --rounds ${options.rounds}${options.pin ? ' --pin' : ''}${options.only === undefined ? '' : ` --only '${options.only}'`}\``;
      await writeFile(file, `${table}\nMachine: ${machine}. Command: ${how}.\n`);
      options.progress.log(`  wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  return results.some((r) => r.error) ? 1 : 0;
}

function positiveNumber(text: string, flag: string, zeroOk = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (!zeroOk && n === 0)) throw new Error(`${flag} must be a positive number`);
  return n;
}

main().then(
  (code) => {
    // Scenario clients may leave sockets or timers behind; the run is over.
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
