import type { CacheStore } from '@larder/core/driver';
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { Cluster, Redis } from 'ioredis';
import type { InfoReader } from './redis-counters';

/** The Redis an L1 fleet runs against in `pnpm bench fleet` (`--redis single,cluster`). */
export type FleetTopology = 'single' | 'cluster';

/** A running Redis for one fleet size: its servers' counters, a raw writer and a store per instance. */
export interface FleetTarget {
  /** The row's label. */
  readonly label: string;
  /** `INFO` of every master, summed field by field (one server: its own). */
  readonly stats: InfoReader;
  /** A SET by a separate raw client (not an instance). */
  write(key: string, value: string): Promise<unknown>;
  /** Stores `entries` by the raw client. */
  fill(entries: readonly (readonly [string, string])[]): Promise<void>;
  /** One instance's store (its own connections). */
  store(): CacheStore;
  /** The URL of one node, where the bus rows put their bus. */
  readonly url: string;
  /** On a Cluster: Pub/Sub messages its nodes received from one another (copies over the cluster bus, `CLUSTER INFO`), else undefined. */
  pubsubCopies?(): Promise<number>;
  stop(): Promise<void>;
}

// 500 instances in one process on 2 cores: a call may wait seconds for its turn (the 2 s default timed out at N = 500).
const COMMAND_TIMEOUT_MS = 30_000;
const FILL_CHUNK = 500;

/**
 * One `InfoReader` over several servers: each number is the sum over them (commands, bytes, CPU,
 * `tracking_total_items`, `used_memory`, commandstats calls), so the figures are the whole Cluster's.
 */
export function summedInfo(readers: readonly InfoReader[]): InfoReader {
  return {
    async info(...sections) {
      const sums = new Map<string, number>();
      for (const text of await Promise.all(readers.map((reader) => reader.info(...sections)))) {
        for (const line of text.split('\r\n')) {
          const at = line.indexOf(':');
          if (at <= 0 || line.startsWith('#')) continue;
          const name = line.slice(0, at);
          const value = line.slice(at + 1);
          const number = name.startsWith('cmdstat_') ? /(?:^|,)calls=(\d+)/.exec(value)?.[1] : value;
          if (number === undefined || !/^-?[\d.]+$/.test(number)) continue;
          sums.set(name, (sums.get(name) ?? 0) + Number(number));
        }
      }
      return [...sums]
        .map(([name, sum]) => (name.startsWith('cmdstat_') ? `${name}:calls=${sum}` : `${name}:${sum}`))
        .join('\r\n');
    },
  };
}

async function single(): Promise<FleetTarget> {
  const server: RedisServer = await startRedis();
  const stats = new Redis(server.url);
  const writer = new Redis(server.url);
  return {
    label: 'single',
    stats,
    url: server.url,
    write: (key, value) => writer.set(key, value),
    async fill(entries) {
      const pipeline = writer.pipeline();
      for (const [key, value] of entries) pipeline.set(key, value);
      await pipeline.exec();
    },
    store: () => createRedisStore({ url: server.url, commandTimeoutMs: COMMAND_TIMEOUT_MS }),
    async stop() {
      stats.disconnect();
      writer.disconnect();
      await server.stop();
    },
  };
}

/** A 3-master Cluster without replicas: tracking then keeps one pair of connections per master per instance. */
async function cluster(): Promise<FleetTarget> {
  const servers: RedisCluster = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
  const nodes = servers.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  const readers = servers.nodes.map((node) => new Redis(node.port, '127.0.0.1'));
  const writer = new Cluster(nodes, { enableAutoPipelining: true });
  return {
    label: 'cluster, 3 masters',
    stats: summedInfo(readers),
    url: `redis://${servers.nodes[0]?.address}`,
    write: (key, value) => writer.set(key, value),
    async fill(entries) {
      // A Cluster pipeline must stay on one node: auto-pipelined SETs are grouped per node instead.
      for (let from = 0; from < entries.length; from += FILL_CHUNK)
        await Promise.all(entries.slice(from, from + FILL_CHUNK).map(([key, value]) => writer.set(key, value)));
    },
    store: () => createRedisStore({ clusterNodes: nodes, commandTimeoutMs: COMMAND_TIMEOUT_MS }),
    async pubsubCopies() {
      const infos = await Promise.all(readers.map((reader) => reader.cluster('INFO') as Promise<string>));
      const received = /^cluster_stats_messages_publish(?:shard)?_received:(\d+)/gm;
      return infos.reduce((sum, text) => sum + [...text.matchAll(received)].reduce((s, m) => s + Number(m[1]), 0), 0);
    },
    async stop() {
      for (const reader of readers) reader.disconnect();
      writer.disconnect();
      await servers.stop();
    },
  };
}

/** Starts the Redis of `topology`. */
export function startTarget(topology: FleetTopology): Promise<FleetTarget> {
  return topology === 'single' ? single() : cluster();
}
