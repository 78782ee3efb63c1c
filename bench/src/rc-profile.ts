/**
 * Profiling harness for the response-cache scenario (not a benchmark): starts one app of
 * scenarios/response-cache.ts in a child process (optionally under `--cpu-prof` or any other Node
 * flags), warms it, sends `count` requests of one kind over 50 connections and prints the app's
 * CPU time per request (/proc). Usage:
 *   node --import tsx bench/src/rc-profile.ts [subject=larder (memory)] [kind=hit] [count=20000] [warm=min(count, 20000)] [-- node flags]
 * With LARDER_RC_CALLGRIND=<out file>, the app runs under `valgrind --tool=callgrind` with
 * instrumentation off until warmed; the measured requests alone are counted (instructions per
 * request are printed; repeatable on a loaded machine, unlike time). With LARDER_RC_PIN=1 the app runs
 * on CPU 1 and the load on CPU 0.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from '@larder/dev-services';
import { childPort } from './child-port';
import { pinProcess } from './pin';
import { Connection, REQUESTS } from './rc-harness';

const dash = process.argv.indexOf('--');
const args = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
const flags = dash < 0 ? [] : process.argv.slice(dash + 1);
const subject = args[0] ?? 'larder (memory)';
const kind = args[1] ?? 'hit';
const count = Number(args[2] ?? 20_000);
const request = REQUESTS[kind];
if (!request) throw new Error(`kind: one of ${Object.keys(REQUESTS).join(', ')}`);

/** The process's user and system CPU time in µs (/proc, 10 ms ticks). */
const cpuOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 };
};

const redis = subject === 'larder (redis)' ? await startRedis() : undefined;
// LARDER_RC_SCENARIO: another scenario's app (`response-cache-fastify`, `response-cache-hono`).
const file = fileURLToPath(
  new URL(`./scenarios/${process.env.LARDER_RC_SCENARIO ?? 'response-cache'}.ts`, import.meta.url),
);
const callgrind = process.env.LARDER_RC_CALLGRIND;
// LARDER_RC_PIN=1: the app on CPU 1, this load generator on CPU 0 (steadier on a 2-core machine).
const pin = process.env.LARDER_RC_PIN === '1';
if (pin) pinProcess(process.pid, 0);
const command = [
  ...(pin ? ['taskset', '-c', '1'] : []),
  ...(callgrind ? ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${callgrind}`] : []),
  process.execPath,
];
const child = spawn(command[0] as string, [...command.slice(1), ...flags, '--import', 'tsx', file], {
  env: {
    ...process.env,
    LARDER_BENCH_RC_SERVER: '1',
    LARDER_BENCH_RC_SUBJECT: subject,
    REDIS_URL: redis?.url ?? '',
  },
  stdio: ['ignore', 'pipe', callgrind ? 'ignore' : 'inherit'],
});
const port = await childPort(child, 'app');
const connections = await Promise.all(Array.from({ length: 50 }, () => Connection.open(port)));
/** Sends `n` requests from index `from`; resolves with how many were answered `X-Cache: HIT`. */
const run = async (n: number, from: number, send = request) => {
  let i = from;
  let hits = 0;
  const end = from + n;
  await Promise.all(
    connections.map(async (c) => {
      while (i < end) if (/\r\nx-cache: hit\r\n/i.test(await c.get(...send(i++)))) hits++;
    }),
  );
  return hits;
};
// LARDER_RC_PRELOAD=N: first N miss requests (a store holding what a bench's miss rows left in it).
const preload = Number(process.env.LARDER_RC_PRELOAD ?? 0);
if (preload > 0) await run(preload, 5_000_000, REQUESTS.miss);
await run(Number(args[3] ?? Math.min(count, 20_000)), 1_000_000);
const control = (...a: string[]) => execFileSync('callgrind_control', [...a, String(child.pid)], { stdio: 'ignore' });
if (callgrind) control('-i', 'on');
const cpu0 = cpuOf(child.pid as number);
const t0 = performance.now();
const hits = await run(count, 0);
const cpu1 = cpuOf(child.pid as number);
const user = cpu1.user - cpu0.user;
const system = cpu1.system - cpu0.system;
const cpu = user + system;
const ms = performance.now() - t0;
if (callgrind) {
  control('-i', 'off');
  control('-d');
  // The dump is `<file>.1` (and `<file>` at exit): read without a shell, so any file name works.
  const dir = dirname(callgrind);
  const base = basename(callgrind);
  const dumps = readdirSync(dir).filter((name) => name.startsWith(base));
  const lines = dumps.flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'));
  const counts = lines.filter((line) => /^(summary|totals):/.test(line)).map((line) => Number(line.split(' ')[1]));
  const ir = Math.max(0, ...counts);
  process.stdout.write(`${subject} ${kind}: ${Math.round(ir / count)} instructions/request (callgrind)\n`);
}
process.stdout.write(
  `${subject} ${kind}: ${count} requests, app CPU ${(cpu / count).toFixed(1)} µs/request (user ${(user / count).toFixed(1)}, system ${(system / count).toFixed(1)}), ${Math.round((count / ms) * 1000)} req/s, ${hits} X-Cache: HIT (loaded machine: CPU is the number)\n`,
);
for (const c of connections) c.close();
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
await redis?.stop();
