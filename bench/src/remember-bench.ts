/**
 * `pnpm bench remember [--instances n] [--full]` (main.ts hands it here): issue #39's scenarios 1, 3 and 4
 * for larder's `remember`, bentocache's `getOrSet` and cache-manager's `wrap`, in one run on one
 * redis-server, each library as `n` (8) in-process instances with their own connections:
 * 1. a 3 s loader with a stale value present (larder's `timeout.soft` 100 ms): caller latency, loader runs;
 * 3. the source down (the loader fails in 1 ms), 8 × 100 requests/s on a key past its TTL with
 *    grace for 3 s: loader runs per second, larder with and without `failure`;
 * 4. refresh-ahead on a hot key (TTL 1 s, a 100 ms source, 8 × 50 requests/s for 4 s): loader runs
 *    per refresh, caller p99 against a steady key's in the same run.
 * Durations are the issue's scaled down (60 s outage → 3 s, 2 minutes of a 10 s TTL → 4 s of a
 * 1 s TTL) so the whole run takes under a minute; `--full` runs the issue's own (8 × 200/s for
 * 60 s, a 10 s TTL for 2 minutes: about 14 minutes). Each row shows the issue's bound beside its
 * loader runs. The hidden `--scale f` multiplies the durations (a smoke run). Prints one markdown
 * table; figures vary with the machine. Option mapping: remember/scenarios.ts and bench/README.md.
 */
import { parseArgs } from 'node:util';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { staleBuilds } from './built-packages';
import { machineInfo } from './harness';
import { FULL, type Lengths, SHORT, scaled } from './remember/lengths';
import { hotKey, p, type Row, type Setting, slowLoader, sourceDown } from './remember/scenarios';
import { BENTO, CACHE_MANAGER } from './remember/subjects';

const ms = (value: number) => (Number.isNaN(value) ? '—' : value.toFixed(1));

function formatRow(row: Row): string {
  const { calls, steady } = row;
  const p99 = p(calls, 99);
  const steadyP99 = steady === undefined ? Number.NaN : p(steady, 99);
  const ratio = steady === undefined ? '' : ` (${(p99 / steadyP99).toFixed(2)}×)`;
  return `| ${[
    row.scenario,
    row.subject,
    row.options,
    calls.latencies.length + calls.failed,
    calls.failed,
    ms(p(calls, 50)),
    ms(p99),
    ms(Math.max(...calls.latencies)),
    steady === undefined ? '' : `${ms(steadyP99)}${ratio}`,
    row.runs,
    row.bound,
    row.per,
  ].join(' | ')} |`;
}

/** The table and its notes. */
function format(rows: Row[], instances: number, lengths: Lengths): string {
  const { slow, down, hot } = lengths;
  const full = lengths === FULL;
  const head = [
    'scenario',
    'subject',
    'options',
    'calls',
    'failed',
    'p50 ms',
    'p99 ms',
    'max ms',
    'steady p99 ms (p99 ÷ it)',
    'loader runs',
    'the issue’s bound',
    'loader runs per',
  ];
  return [
    '## remember: slow, down and hot sources (issue #39 scenarios 1, 3, 4)',
    '',
    `Lengths: ${lengths.name}. ${instances} in-process instances per subject (own connection, own in-process state) on one redis-server; ${BENTO} (Redis driver as its only layer, no bus), ${CACHE_MANAGER} (keyv 5.6.0 + @keyv/redis 5.1.6), larder without L1.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`,
    ...rows.map(formatRow),
    '',
    `- 1 slow loader: a ${slow.loaderMs / 1000} s loader, a stale value present (written with a 50 ms TTL, 150 ms before), ${slow.callersPerInstance} callers per instance at once; loader runs counted across the fleet once every run has finished.`,
    `- 3 source down: the loader fails after ${down.loaderMs} ms; ${instances} × ${down.rps} requests/s for ${down.ms / 1000} s ${full ? '' : '(the issue: 8 × 200/s for 60 s) '}on one key past its TTL with grace; "per": loader runs per second across the fleet. The bound (outage ÷ backoff + instances) is the issue's for a backoff of ${down.backoff} ms; rows without a backoff are measured against it too.`,
    `- 4 hot key: TTL ${hot.ttl / 1000} s${full ? '' : ' (the issue: 10 s, for 2 minutes)'}, a ${hot.loaderMs} ms source, ${instances} × ${hot.rps} requests/s for ${hot.ms / 1000} s; each tick also reads a steady key (TTL 1 h, same options) whose p99 is the "steady state". A refresh: loader runs starting within ${hot.ttl / 4} ms of each other.`,
    '- Latency is each call from start to answer (failed calls are counted, not timed). Not a timed test: the machine and its load move every figure.',
    '',
  ].join('\n');
}

export async function runRemember(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      instances: { type: 'string', default: '8' },
      full: { type: 'boolean', default: false },
      // Hidden: multiplies every duration, for a smoke run of the runner itself.
      scale: { type: 'string', default: '1' },
    },
  });
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1) throw new Error('--instances must be a positive integer');
  const lengths = scaled(values.full ? FULL : SHORT, Number(values.scale));
  const stale = staleBuilds();
  if (stale.length > 0) throw new Error(`run \`pnpm build\` first (stale: ${stale.join(', ')})`);
  const server: RedisServer = await startRedis();
  const started = performance.now();
  try {
    const setting: Setting = {
      server,
      instances,
      lengths,
      progress: (text) => process.stderr.write(`remember: ${text}\n`),
    };
    const rows = [...(await slowLoader(setting)), ...(await sourceDown(setting)), ...(await hotKey(setting))];
    process.stdout.write(`${machineInfo()}\n\n${format(rows, instances, lengths)}`);
    process.stderr.write(`remember: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await server.stop();
  }
}
