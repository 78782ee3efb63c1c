import { mkdir, writeFile } from 'node:fs/promises';
import { requireBinary } from './binaries';
import { findFreePort } from './ports';
import { startOnFreePort } from './process';
import { type RedisNode, redisNodeHandle, redisNodeProcess, replicationArgs } from './redis-node';
import { TempDir } from './temp';
import { waitFor } from './wait';

/** Options of startRedisReplicaSet. */
export interface StartRedisReplicaSetOptions {
  /** Number of replicas (default 2). */
  replicas?: number;
  /** Number of redis-sentinel processes (default 1; 3 for a real quorum of 2; 0 for none). */
  sentinels?: number;
  /** Sentinel master name (default `mymaster`). */
  masterName?: string;
  /** requirepass/masterauth on every data node (sentinels get auth-pass). */
  password?: string;
  /** Sentinel down-after-milliseconds (default 1000). */
  downAfterMs?: number;
  /** Sentinel failover-timeout (default 3000). */
  failoverTimeoutMs?: number;
  /** Extra redis-server arguments for every data node. */
  args?: string[];
}

/** A primary, its replicas and the Sentinels that watch them. */
export interface RedisReplicaSet {
  /** The node started as primary (after a failover, use currentPrimary()). */
  primary: RedisNode;
  /** The nodes started as replicas. */
  replicas: RedisNode[];
  /** Every data node (primary first). */
  nodes: RedisNode[];
  /** The Sentinel processes. */
  sentinels: RedisNode[];
  /** The monitored master name (`mymaster`). */
  masterName: string;
  /** `host:port,host:port` of the Sentinels (the REDIS_SENTINELS format). */
  sentinelAddresses: string;
  /** Comma list of the replica URLs (the REDIS_REPLICA_URLS format). */
  replicaUrls: string;
  /** The node that is primary now (asks the Sentinels, else the nodes' ROLE). */
  currentPrimary(): Promise<RedisNode>;
  /** Waits until every running non-primary node is a replica of the current primary with `master_link_status:up`. */
  waitForSync(timeoutMs?: number): Promise<void>;
  /** SIGKILLs the current primary and waits until the Sentinels promoted a replica; returns the new primary. */
  killPrimary(timeoutMs?: number): Promise<{ killed: RedisNode; primary: RedisNode }>;
  /**
   * Restarts a (killed) node on its port as a replica of the current primary, the fast way back after a failover
   * (a plain `node.restart()` comes back as a lone primary that the Sentinels convert only after ~10 s).
   */
  restartAsReplica(node: RedisNode): Promise<void>;
  /** Waits until every Sentinel reports `node` as the master. */
  waitForPrimary(node: RedisNode, timeoutMs?: number): Promise<void>;
  /** Stops every process and removes the temp dir. */
  stop(): Promise<void>;
}

function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

/**
 * Starts a primary, `replicas` replicas (diskless sync, no delay) and `sentinels` Sentinels monitoring it with
 * a short down-after so that a failover completes in a few seconds. Resolves once replicas are in sync and every
 * Sentinel knows all replicas and all other Sentinels.
 */
export async function startRedisReplicaSet(options: StartRedisReplicaSetOptions = {}): Promise<RedisReplicaSet> {
  requireBinary('redis-server');
  const replicaCount = options.replicas ?? 2;
  const sentinelCount = options.sentinels ?? 1;
  if (sentinelCount > 0) requireBinary('redis-sentinel');
  const masterName = options.masterName ?? 'mymaster';
  const password = options.password;
  const dir = new TempDir('redis-replset');
  const nodes: RedisNode[] = [];
  const sentinels: RedisNode[] = [];
  const stopAll = async () => {
    await Promise.all([...sentinels, ...nodes].map((n) => n.process.stop()));
    await dir.remove();
  };
  // Every data node may become primary, so all get the same replication settings.
  const common = replicationArgs(password, options.args);
  const startNode = async (extra: string[]) =>
    startOnFreePort(
      () => findFreePort(),
      async (port) => {
        const nodeDir = `${dir.path}/node-${port}`;
        await mkdir(nodeDir, { recursive: true });
        const proc = redisNodeProcess({ port, dir: nodeDir, args: [...common, ...extra], password });
        return redisNodeHandle(await proc.start(), { password });
      },
    );
  try {
    const primary = await startNode([]);
    nodes.push(primary);
    const replicas = await Promise.all(
      Array.from({ length: replicaCount }, () => startNode(['--replicaof', '127.0.0.1', String(primary.port)])),
    );
    nodes.push(...replicas);

    const findPrimaryByRole = async (): Promise<RedisNode> => {
      for (const node of nodes) {
        if (!node.process.running) continue;
        try {
          const role = await node.command('ROLE');
          if (Array.isArray(role) && role[0] === 'master') return node;
        } catch {
          // try the next
        }
      }
      throw new Error('no running node reports role master');
    };
    const currentPrimary = async (): Promise<RedisNode> => {
      for (const sentinel of sentinels) {
        if (!sentinel.process.running) continue;
        try {
          const addr = await sentinel.command('SENTINEL', 'get-master-addr-by-name', masterName);
          const port = Array.isArray(addr) ? Number(addr[1]) : Number.NaN;
          const node = nodes.find((n) => n.port === port);
          if (node) return node;
        } catch {
          // ask the next
        }
      }
      return findPrimaryByRole();
    };
    // In sync: each replica's link is up and it has applied the replication stream up to the
    // primary's offset when the wait began. The link alone is not enough: after a diskless sync the
    // primary streams to a replica only once that replica's first REPLCONF ACK arrives (up to a
    // second later), while both already report the link up and the replica online.
    const waitForSync = async (timeoutMs = 15_000) => {
      let target: { node: RedisNode; offset: number } | undefined;
      await waitFor(
        async () => {
          const primaryNode = await findPrimaryByRole();
          if (target?.node !== primaryNode) {
            const offset = Number((await primaryNode.info('replication')).master_repl_offset);
            target = { node: primaryNode, offset };
          }
          for (const node of nodes) {
            if (node === primaryNode || !node.process.running) continue;
            const info = await node.info('replication');
            if (info.role !== 'slave' || info.master_port !== String(primaryNode.port)) return false;
            if (info.master_link_status !== 'up' || info.master_sync_in_progress === '1') return false;
            if (!(Number(info.slave_repl_offset) >= target.offset)) return false;
          }
          // The primary's own view too: it marks a replica online only at that replica's first ACK
          // after the sync, which can come after the replica already reports its link up.
          const replicas = Object.entries(await primaryNode.info('replication'))
            .filter(([name]) => /^slave\d+$/.test(name))
            .map(([, value]) => value);
          return nodes.every(
            (node) =>
              node === primaryNode ||
              !node.process.running ||
              replicas.some((line) => line.includes(`port=${node.port},`) && line.includes('state=online')),
          );
        },
        {
          timeoutMs,
          description: "replicas to be in sync (link up, the primary's offset applied, online on the primary)",
        },
      );
    };
    await waitForSync();

    const sentinelConfig = (port: number) =>
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'daemonize no',
        'protected-mode no',
        `dir ${dir.path}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} ${sentinelCount === 1 ? 1 : Math.floor(sentinelCount / 2) + 1}`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 3000}`,
        `sentinel parallel-syncs ${masterName} ${replicaCount}`,
        ...(password !== undefined ? [`sentinel auth-pass ${masterName} ${password}`] : []),
        '',
      ].join('\n');
    const startedSentinels = await Promise.all(
      Array.from({ length: sentinelCount }, () =>
        startOnFreePort(
          () => findFreePort(),
          async (port) => {
            const configFile = `${dir.path}/sentinel-${port}.conf`;
            // Sentinel rewrites its config file, so each one needs its own writable copy.
            await writeFile(configFile, sentinelConfig(port));
            const proc = redisNodeProcess({ binary: 'redis-sentinel', port, dir: dir.path, configFile });
            return redisNodeHandle(await proc.start(), {});
          },
        ),
      ),
    );
    sentinels.push(...startedSentinels);
    await waitFor(
      async () => {
        for (const sentinel of sentinels) {
          const master = pairs(await sentinel.command('SENTINEL', 'master', masterName));
          if (Number(master['num-slaves']) < replicaCount) return false;
          if (Number(master['num-other-sentinels']) < sentinelCount - 1) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'every Sentinel to know all replicas and Sentinels' },
    );

    const waitForPrimary = async (node: RedisNode, timeoutMs = 20_000) => {
      await waitFor(
        async () => {
          for (const sentinel of sentinels) {
            if (!sentinel.process.running) continue;
            const addr = await sentinel.command('SENTINEL', 'get-master-addr-by-name', masterName);
            if (!Array.isArray(addr) || Number(addr[1]) !== node.port) return false;
          }
          const role = await node.command('ROLE');
          return Array.isArray(role) && role[0] === 'master';
        },
        { timeoutMs, intervalMs: 100, description: `the Sentinels to report ${node.address} as ${masterName}` },
      );
    };

    return {
      primary,
      replicas,
      nodes,
      sentinels,
      masterName,
      sentinelAddresses: sentinels.map((s) => s.address).join(','),
      replicaUrls: replicas.map((r) => r.url).join(','),
      currentPrimary,
      waitForSync,
      waitForPrimary,
      async killPrimary(timeoutMs = 30_000) {
        if (sentinels.length === 0) throw new Error('killPrimary needs at least one Sentinel');
        const killed = await currentPrimary();
        await killed.kill();
        const promoted = await waitFor(
          async () => {
            const node = await currentPrimary();
            if (node === killed) return false;
            const role = await node.command('ROLE');
            return Array.isArray(role) && role[0] === 'master' ? node : false;
          },
          { timeoutMs, intervalMs: 100, description: `a Sentinel failover away from ${killed.address}` },
        );
        return { killed, primary: promoted };
      },
      async restartAsReplica(node) {
        const current = await currentPrimary();
        if (current === node) throw new Error(`${node.address} is the current primary`);
        const args = node.process.spec.args;
        const at = args.indexOf('--replicaof');
        if (at >= 0) args.splice(at, 3);
        args.push('--replicaof', '127.0.0.1', String(current.port));
        await node.restart();
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
