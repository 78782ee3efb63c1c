/**
 * `pnpm bench fleet [--sizes 1,8,32,128] [--redis single,cluster|none] [--tracking broadcast,readers] [--bus memcached,dynamodb|none] [--bus-redis single,cluster] [--freeze 3,128|none]`
 * (main.ts hands it here); the bus rows are fleet-bus.ts's, the freeze rows (SIGSTOP during a barrier) fleet-freeze.ts's:
 * what an L1 fleet costs one shared Redis, per fleet size, topology and tracking mode (all by default;
 * a Cluster of 3 masters without replicas in broadcast mode only, its counters summed over the masters:
 * fleet-targets.ts).
 * N instances (each a `Cache` with its own Redis store and an L1 kept by CLIENT TRACKING, as
 * `configFromEnv` builds with `CACHE_L1=on`) run in this one process, so Redis sees N clients of
 * each kind; each has read 1% of 10,000 keys. Per N it measures, from `INFO` of that redis-server (of each master):
 * - idle: commands and bytes Redis sends per second while no instance does anything (3 s), and
 *   the server's `tracking_total_items` (keys × readers it remembers) and `used_memory` then;
 * - a write: Redis CPU and bytes sent per SET of a 200-byte value by a separate raw client, 16 in flight;
 * - idle, also: store writes per instance per minute (SET, SADD, SREM, DEL... from `INFO commandstats`,
 *   which counts the SET a lease renewal's compare-and-set script runs);
 * - a barrier: `invalidateTags` from one instance, 20 in a row: p50 and p99, commands and bytes each
 *   (commands also less the idle rate over the barriers' time: the lease renewals meanwhile);
 * - a hot key (fleet-hot-key.ts): every instance holds `hot` in its L1 and the raw client SETs it, 50
 *   times: the delay until the last instance's L1 dropped it (p50, p99; instances polled every
 *   event-loop turn, so the delay includes this one process's turn over N instances) and the store
 *   reads Redis counts per write meanwhile (nobody reads, so these are re-reads the invalidation caused).
 * Prints one markdown table; the README quotes it. Not a timed test: figures vary with the machine.
 */
import { Cache } from '@larder/core';
import { waitFor } from '@larder/dev-services';
import { type BusStore, runFleetOnBus } from './fleet-bus';
import { runFleetFreeze } from './fleet-freeze';
import { hotKeyWrites } from './fleet-hot-key';
import { type FleetTarget, type FleetTopology, startTarget } from './fleet-targets';
import { machineInfo } from './harness';
import { commandCalls, type InfoReader, infoField, readRedisInfo, redisCpuUs } from './redis-counters';

const KEYS = 10_000;
const VALUE = 'x'.repeat(200);
const IDLE_MS = 3000;
const WRITES = 4000;
const IN_FLIGHT = 16;
const BARRIERS = 20;
const HOT_WRITES = 50;

// Commands that change the dataset; a compare-and-set script's SET is counted as a `set` (commandstats).
const WRITE_COMMANDS = ['set', 'sadd', 'srem', 'del', 'unlink', 'pexpire', 'expire', 'psetex', 'setex'];

interface Counters {
  commands: number;
  bytesOut: number;
  cpuUs: number;
  writes: number;
}

async function counters(stats: InfoReader): Promise<Counters> {
  const info = await readRedisInfo(stats, 'stats', 'cpu', 'commandstats');
  return {
    commands: infoField(info, 'total_commands_processed'),
    bytesOut: infoField(info, 'total_net_output_bytes'),
    cpuUs: redisCpuUs(info),
    writes: commandCalls(info, WRITE_COMMANDS),
  };
}

const minus = (a: Counters, b: Counters): Counters => ({
  commands: a.commands - b.commands,
  bytesOut: a.bytesOut - b.bytesOut,
  cpuUs: a.cpuUs - b.cpuUs,
  writes: a.writes - b.writes,
});

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** One fleet size: starts the Redis of `topology`, N instances, measures, stops everything. */
async function measure(n: number, tracking: 'broadcast' | 'readers', topology: FleetTopology): Promise<string> {
  const target: FleetTarget = await startTarget(topology);
  const stats = target.stats;
  const prefix = 'fleet:';
  const fleet = Array.from(
    { length: n },
    () =>
      new Cache({
        store: target.store(),
        timeout: '60s',
        prefix,
        l1: { invalidation: 'tracking', tracking },
      }),
  );
  try {
    await Promise.all(fleet.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
    await target.fill(Array.from({ length: KEYS }, (_, k) => [`${prefix}k${k}`, JSON.stringify(VALUE)] as const));
    // Each instance reads its own 1% of the keys (the L1s hold different keys, as instances behind a balancer do).
    // 32 instances at a time: all 500 at once only measured this process's queue.
    for (let from = 0; from < n; from += 32) {
      await Promise.all(
        fleet
          .slice(from, from + 32)
          .map((cache, j) =>
            cache.getMany(Array.from({ length: KEYS / 100 }, (_, k) => `k${((from + j) * 97 + k) % KEYS}`)),
          ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));

    // What reading the counters itself costs (the INFO command and its reply), taken off every figure.
    const first = await counters(stats);
    const probe = minus(await counters(stats), first);
    const since = async (from: Counters) => minus(minus(await counters(stats), from), probe);

    let before = await counters(stats);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idle = await since(before);
    const memory = await readRedisInfo(stats, 'stats', 'memory');
    const trackingItems = infoField(memory, 'tracking_total_items');
    const usedMb = infoField(memory, 'used_memory') / 1024 / 1024;
    const perSecond = (value: number) => (value * 1000) / IDLE_MS;

    before = await counters(stats);
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < WRITES) await target.write(`${prefix}k${next++ % KEYS}`, JSON.stringify(VALUE));
      }),
    );
    const write = await since(before);

    const latencies: number[] = [];
    before = await counters(stats);
    const barriersBegan = performance.now();
    for (let i = 0; i < BARRIERS; i++) {
      const started = performance.now();
      await (fleet[0] as Cache).invalidateTags(['t']);
      latencies.push(performance.now() - started);
    }
    const barrier = await since(before);
    // The lease renewals that went on meanwhile (the idle rate over the barriers' time) are not the barrier's.
    const idleDuringBarriers = (idle.commands * (performance.now() - barriersBegan)) / IDLE_MS;
    latencies.sort((a, b) => a - b);

    const hot = await hotKeyWrites(
      fleet,
      'hot',
      (round) => target.write(`${prefix}hot`, JSON.stringify(round)),
      stats,
      HOT_WRITES,
    );

    const row = [
      target.label,
      tracking,
      n,
      perSecond(idle.commands).toFixed(0),
      (perSecond(idle.bytesOut) / 1024).toFixed(1),
      ((idle.writes / n) * (60_000 / IDLE_MS)).toFixed(0),
      trackingItems,
      usedMb.toFixed(1),
      (write.cpuUs / WRITES).toFixed(1),
      (write.bytesOut / WRITES).toFixed(0),
      quantile(latencies, 0.5).toFixed(1),
      quantile(latencies, 0.99).toFixed(1),
      (barrier.commands / BARRIERS).toFixed(1),
      ((barrier.commands - idleDuringBarriers) / BARRIERS).toFixed(1),
      (barrier.bytesOut / BARRIERS / 1024).toFixed(1),
      quantile(hot.delaysMs, 0.5).toFixed(2),
      quantile(hot.delaysMs, 0.99).toFixed(2),
      hot.storeReadsPerWrite.toFixed(2),
    ];
    return `| ${row.join(' | ')} |`;
  } finally {
    await Promise.all(fleet.map((cache) => cache.close().catch(() => undefined)));
    await target.stop();
  }
}

/** The comma list after `--name` in `args`, else `fallback`; `none` is an empty list, else each item must be one of `allowed`. */
function listArg<T extends string>(
  args: readonly string[],
  name: string,
  fallback: string,
  allowed: readonly T[],
): T[] {
  const at = args.indexOf(`--${name}`);
  const text = at >= 0 ? (args[at + 1] ?? '') : fallback;
  if (text === 'none') return [];
  const list = text.split(',') as T[];
  if (list.some((item) => !allowed.includes(item)))
    throw new Error(`--${name} takes none or a comma list of ${allowed.join(', ')}`);
  return list;
}

/** The comma list of fleet sizes after `--name`, else `fallback`; `none`: empty. */
function sizesArg(args: readonly string[], name: string, fallback: string): number[] {
  const at = args.indexOf(`--${name}`);
  const text = at >= 0 ? (args[at + 1] ?? '') : fallback;
  if (text === 'none') return [];
  const sizes = text.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name} takes a comma list of fleet sizes`);
  return sizes;
}

/**
 * Runs the fleet report for `sizes` (`--sizes 1,8,32,128` by default) on the Redis topologies of
 * `--redis` (`single,cluster` by default; `readers` tracking on the single node only: a Cluster
 * refuses it) and prints it on stdout.
 */
export async function runFleet(args: readonly string[]): Promise<void> {
  const sizes = sizesArg(args, 'sizes', '1,8,32,128');
  const freeze = sizesArg(args, 'freeze', '3,128');
  const modes = listArg(args, 'tracking', 'broadcast,readers', ['broadcast', 'readers'] as const);
  const topologies = listArg(args, 'redis', 'single,cluster', ['single', 'cluster'] as const);
  const onBus: BusStore[] = listArg(args, 'bus', 'memcached,dynamodb', ['memcached', 'dynamodb']);
  const busOn = listArg(args, 'bus-redis', 'single,cluster', ['single', 'cluster'] as const);
  process.stdout.write(`## L1 fleet on one Redis (CLIENT TRACKING)\n\n${machineInfo()}\n\n`);
  process.stdout.write(
    '| Redis | tracking | N | idle: commands/s | idle: KB/s Redis sends | idle: store writes per instance per min | tracking_total_items | used_memory MB | Redis CPU µs per SET | bytes Redis sends per SET | barrier p50 ms | barrier p99 ms | commands per barrier | less idle renewals meanwhile | KB Redis sends per barrier | invalidation to the last instance p50 ms | p99 ms | L2 reads per write of a key every instance holds |\n',
  );
  process.stdout.write('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const topology of topologies) {
    for (const tracking of modes) {
      if (topology === 'cluster' && tracking === 'readers') continue;
      for (const n of sizes) {
        process.stderr.write(`fleet of ${n} (${topology}, ${tracking})...\n`);
        process.stdout.write(`${await measure(n, tracking, topology)}\n`);
      }
    }
  }
  await runFleetOnBus(onBus, sizes, busOn);
  await runFleetFreeze(freeze);
}
