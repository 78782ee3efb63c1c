/**
 * Profiling harness (not a benchmark): runs chosen cases of one in-process scenario, subjects
 * interleaved over rounds, and prints this process's CPU µs per operation (process.cpuUsage;
 * steadier than ops/s on a loaded machine), with the median wall-clock rate and the scenario's
 * own columns per operation (Redis's CPU, commands) beside it. Run it under `node --cpu-prof` to
 * see where a subject's share goes. Usage:
 *   node --import tsx bench/src/case-cpu.ts <scenario> <op> [--count=20000] [--rounds=3] [--pin] [subject...]
 * e.g. `bench/src/case-cpu.ts redis 'set ×1' larder 'raw ioredis'`.
 * Under `valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=<file>` with
 * LARDER_CALLGRIND=<file>, instructions per operation are counted instead (the measured runs
 * only; repeatable on a loaded machine). With LARDER_CPU_PROFILE=<file>, a CPU profile of the
 * measured runs alone (not the scenario's setup or the warm-up) is written there (.cpuprofile).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { BenchCase, Scenario } from './harness';
import { canPin, pinForClients, pinForServers } from './pin';

const callgrind = process.env.LARDER_CALLGRIND;
/** Runs callgrind_control on this process (asynchronously: valgrind answers from this process's own loop). */
const control = (...a: string[]) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn('callgrind_control', [...a, String(process.pid)], { stdio: 'ignore' });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`callgrind_control ${a.join(' ')}: ${code}`)),
    );
  });
let dumps = 0;
const profileFile = process.env.LARDER_CPU_PROFILE;
const inspector = profileFile === undefined ? undefined : new Session();
inspector?.connect();
/** Instructions of the newest callgrind dump (what ran between two dumps with instrumentation on). */
function lastDumpInstructions(): number {
  const text = readFileSync(`${callgrind}.${dumps}`, 'utf8');
  return Math.max(...[...text.matchAll(/^(?:summary|totals): (\d+)/gm)].map((m) => Number(m[1])));
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const given = args.find((a) => a.startsWith(`--${name}=`));
  return given === undefined ? fallback : Number(given.slice(name.length + 3));
};
const [name, op, ...rest] = args.filter((a) => !a.startsWith('--'));
if (name === undefined || op === undefined) throw new Error('usage: case-cpu.ts <scenario> <op> [subject...]');
const count = flag('count', 20_000);
const rounds = flag('rounds', 3);
const { scenario } = (await import(`./scenarios/${name}.ts`)) as { scenario: Scenario<unknown> };
// `--pin`: as `pnpm bench --pin`, the servers the setup starts on CPU 1 and this process on CPU 0.
const pin = args.includes('--pin') && canPin();
if (pin) pinForServers();
const ctx = await scenario.setup();
if (pin) pinForClients();
const all = typeof scenario.cases === 'function' ? scenario.cases(ctx) : scenario.cases;
const chosen = all.filter((c) => c.op === op && (rest.length === 0 || rest.includes(c.subject)));
if (chosen.length === 0) {
  await scenario.teardown?.(ctx);
  throw new Error(`no case; ops: ${[...new Set(all.map((c) => c.op))].join(' | ')}`);
}

// The scenario's own columns (Redis's CPU a write...) and the wall-clock rate, per measured run.
const columns = scenario.counters ?? [];
const extraRuns = new Map<BenchCase<unknown>, { rates: number[]; counters: number[][] }>();
const extras = (c: BenchCase<unknown>) => {
  const known = extraRuns.get(c);
  if (known !== undefined) return known;
  const runs = { rates: [] as number[], counters: columns.map((): number[] => []) };
  extraRuns.set(c, runs);
  return runs;
};
const median = (list: readonly number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;

async function run(c: BenchCase<unknown>, n: number, from: number, measured = true): Promise<number> {
  let i = from;
  const end = from + n;
  const worker = async () => {
    while (i < end) await c.run(ctx, i++);
  };
  const workers = c.concurrency ?? scenario.concurrency ?? 1;
  if (callgrind && measured) {
    await control('-i', 'on');
    await Promise.all(Array.from({ length: workers }, worker));
    await control('-i', 'off');
    dumps++;
    await control('-d');
    return lastDumpInstructions() / n;
  }
  const counted = measured ? await Promise.all(columns.map((col) => col.read(ctx, c))) : [];
  const started = performance.now();
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: workers }, worker));
  const used = process.cpuUsage(before);
  if (measured) {
    const after = await Promise.all(columns.map((col) => col.read(ctx, c)));
    extras(c).rates.push(n / ((performance.now() - started) / 1000));
    columns.forEach((_, k) => {
      const [was, now] = [counted[k], after[k]];
      extras(c).counters[k]?.push(was === undefined || now === undefined ? Number.NaN : (now - was) / n);
    });
  }
  return (used.user + used.system) / n;
}

let from = 0;
for (const c of chosen) {
  await c.before?.(ctx);
  await run(c, Math.min(count, 5_000), from, false);
  from += count;
}
const results = new Map<BenchCase<unknown>, number[]>();
await inspector?.post('Profiler.enable');
await inspector?.post('Profiler.start');
for (let r = 0; r < rounds; r++) {
  for (const c of chosen) {
    const list = results.get(c) ?? [];
    list.push(await run(c, count, from));
    from += count;
    results.set(c, list);
  }
}
if (inspector !== undefined) {
  const { profile } = await inspector.post('Profiler.stop');
  writeFileSync(profileFile as string, JSON.stringify(profile));
}
for (const [c, list] of results) {
  const sorted = [...list].sort((a, b) => a - b);
  const digits = callgrind ? 0 : 1;
  const runs = extras(c);
  const more = callgrind
    ? ''
    : [
        `; ${Math.round(median(runs.rates)).toLocaleString('en')} ops/s`,
        ...columns.map((col, k) => `; ${col.name} ${median(runs.counters[k] ?? []).toFixed(col.digits ?? 2)}`),
      ].join('');
  process.stdout.write(
    `${op} · ${c.subject}: min ${(sorted[0] as number).toFixed(digits)}, median ${median(list).toFixed(digits)} ${callgrind ? 'instructions' : 'µs'}/op (${list.map((v) => v.toFixed(digits)).join(' ')})${more}\n`,
  );
}
await scenario.teardown?.(ctx);
