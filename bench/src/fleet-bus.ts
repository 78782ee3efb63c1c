import { Cache } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';
import {
  type CountingProxy,
  type DynamoDbLocal,
  type MemcachedCluster,
  memcachedAsciiStats,
  startCountingProxy,
  startDynamoDbLocal,
  startMemcached,
  waitFor,
} from '@larder/dev-services';
import { createDynamoDbStore, createTables } from '@larder/dynamodb';
import { createMemcachedStore } from '@larder/memcached';
import { type FleetTarget, type FleetTopology, startTarget } from './fleet-targets';
import { infoField, readRedisInfo } from './redis-counters';

/** A store that keeps no L1 channel of its own: the fleet runs on the bus's Redis. */
export type BusStore = 'memcached' | 'dynamodb';

const IDLE_MS = 3000;
const BARRIERS = 20;
// memcached's counters of commands that change an item (`cmd_set` also counts add, replace, cas...).
const MEMCACHED_WRITES = ['cmd_set', 'cmd_touch', 'delete_hits', 'delete_misses', 'incr_hits', 'incr_misses'];
// DynamoDB Local keeps no request metrics: its writes are counted at a proxy in front of it, by operation.
const DYNAMODB_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];

/** The store's server, its write counter and a factory of one instance's store. */
interface Backend {
  writes(): Promise<number>;
  store(): Promise<CacheStore>;
  stop(): Promise<void>;
}

async function memcachedBackend(): Promise<Backend> {
  const memcached: MemcachedCluster = await startMemcached();
  return {
    async writes() {
      const all = await Promise.all(memcached.nodes.map((node) => memcachedAsciiStats(node)));
      return all.reduce((sum, { stats }) => sum + MEMCACHED_WRITES.reduce((s, name) => s + Number(stats[name]), 0), 0);
    },
    store: () => createMemcachedStore({ servers: memcached.servers.split(',') }),
    stop: () => memcached.stop(),
  };
}

async function dynamoDbBackend(): Promise<Backend> {
  const dynamo: DynamoDbLocal = await startDynamoDbLocal();
  const { endpoint, region, credentials } = dynamo;
  await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
  const proxy: CountingProxy = await startCountingProxy(endpoint);
  return {
    writes: async () => DYNAMODB_WRITES.reduce((sum, name) => sum + (proxy.counts.get(name) ?? 0), 0),
    store: async () => createDynamoDbStore({ endpoint: proxy.endpoint, region, credentials, timeout: '20s' }),
    async stop() {
      await proxy.close();
      await dynamo.stop();
    },
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** One fleet size on `backend` with the bus on `bus`: a markdown row. */
async function measure(kind: BusStore, backend: Backend, bus: FleetTarget, n: number): Promise<string> {
  const stats = bus.stats;
  const prefix = `fleet${n}:`;
  const fleet: Cache[] = [];
  try {
    for (let i = 0; i < n; i++)
      fleet.push(new Cache({ store: await backend.store(), prefix, l1: { invalidation: 'bus', busUrl: bus.url } }));
    await Promise.all(fleet.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
    const commands = async () => infoField(await readRedisInfo(stats, 'stats'), 'total_commands_processed');
    const writesBefore = await backend.writes();
    // Less the INFO that reads the counter (one command per node): what two reads in a row count.
    const first = await commands();
    const commandsBefore = await commands();
    const probe = commandsBefore - first;
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const busCommands = (await commands()) - commandsBefore - probe;
    const storeWrites = (await backend.writes()) - writesBefore;
    const latencies: number[] = [];
    const copiesBefore = await bus.pubsubCopies?.();
    for (let i = 0; i < BARRIERS; i++) {
      const started = performance.now();
      await (fleet[0] as Cache).invalidateTags(['t']);
      latencies.push(performance.now() - started);
    }
    const copiesAfter = await bus.pubsubCopies?.();
    latencies.sort((a, b) => a - b);
    const row = [
      `${kind} + bus (${bus.label})`,
      n,
      ((storeWrites / n) * (60_000 / IDLE_MS)).toFixed(0),
      ((busCommands * 1000) / IDLE_MS).toFixed(0),
      quantile(latencies, 0.5).toFixed(1),
      quantile(latencies, 0.99).toFixed(1),
      copiesBefore === undefined ? '–' : (((copiesAfter as number) - copiesBefore) / BARRIERS).toFixed(1),
    ];
    return `| ${row.join(' | ')} |`;
  } finally {
    await Promise.all(fleet.map((cache) => cache.close().catch(() => undefined)));
  }
}

/**
 * The fleet on memcached and DynamoDB Local with the L1 bus (its leases, registry and
 * acknowledgements on the bus's Redis): per N, the store writes per idle instance per minute
 * (memcached's `stats`; DynamoDB's through a counting proxy), the bus Redis's idle commands/s and
 * `invalidateTags` p50/p99; with the bus on a Cluster (`busOn` holds `cluster`), the Pub/Sub
 * messages its nodes copied to one another per barrier (0: sharded Pub/Sub). One server of each
 * kind for every N (a prefix per N).
 */
export async function runFleetOnBus(
  kinds: readonly BusStore[],
  sizes: readonly number[],
  busOn: readonly FleetTopology[] = ['single'],
): Promise<void> {
  if (kinds.length === 0 || busOn.length === 0) return;
  process.stdout.write('\n## L1 fleet on memcached and DynamoDB Local with the bus\n\n');
  process.stdout.write(
    '| store | N | idle: store writes per instance per min | idle: bus Redis commands/s | barrier p50 ms | barrier p99 ms | Pub/Sub copies between Cluster nodes per barrier |\n',
  );
  process.stdout.write('|---|---:|---:|---:|---:|---:|---:|\n');
  for (const topology of busOn) {
    for (const kind of kinds) {
      const [bus, backend] = await Promise.all([
        startTarget(topology),
        kind === 'memcached' ? memcachedBackend() : dynamoDbBackend(),
      ]);
      try {
        for (const n of sizes) {
          process.stderr.write(`fleet of ${n} (${kind} + bus, ${topology})...\n`);
          process.stdout.write(`${await measure(kind, backend, bus, n)}\n`);
        }
      } finally {
        await Promise.all([backend.stop(), bus.stop()]);
      }
    }
  }
}
