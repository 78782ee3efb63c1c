import { mkdir } from 'node:fs/promises';
import { requireBinary } from './binaries';
import { CLUSTER_BUS_OFFSET, findFreePort, MAX_CLUSTER_PORT } from './ports';
import { runToCompletion, startOnFreePort } from './process';
import { type RedisNode, redisNodeHandle, redisNodeProcess, replicationArgs } from './redis-node';
import { parseInfo } from './resp';
import { TempDir } from './temp';
import { waitFor } from './wait';

/** Options of startRedisCluster. */
export interface StartRedisClusterOptions {
  /** Number of masters (default 3, the minimum redis-cli accepts). */
  masters?: number;
  /** Replicas per master (default 1). */
  replicasPerMaster?: number;
  /** cluster-node-timeout in ms (default 2000: failure detection and replica promotion in a few seconds). */
  nodeTimeoutMs?: number;
  /** requirepass/masterauth on every node. */
  password?: string;
  /** Extra redis-server arguments for every node. */
  args?: string[];
}

/** One row of `CLUSTER NODES`. */
export interface ClusterNodeInfo {
  /** Node id. */
  id: string;
  /** Client port. */
  port: number;
  /** Flags such as `myself`, `master`, `slave`, `fail`. */
  flags: string[];
  /** The master's id for a replica, else undefined. */
  masterId?: string;
  /** Slot ranges like `0-5460`. */
  slots: string[];
  /** Link state is `connected`. */
  connected: boolean;
}

/** A running Redis Cluster. */
export interface RedisCluster {
  /** Every node, in start order (the first `masters` were created as masters). */
  nodes: RedisNode[];
  /** `host:port,...` of every node (the REDIS_CLUSTER_NODES format). */
  startupNodes: string;
  /** `CLUSTER NODES` as seen from a running node. */
  topology(): Promise<ClusterNodeInfo[]>;
  /** The nodes that are masters now. */
  masters(): Promise<RedisNode[]>;
  /** The nodes that are replicas now. */
  replicas(): Promise<RedisNode[]>;
  /** Waits until every running node says cluster_state:ok and agrees on the masters. */
  waitForClusterOk(timeoutMs?: number): Promise<void>;
  /** `CLUSTER FAILOVER` on `replica` (default: some replica); waits until it is a master and the cluster is ok. */
  failover(replica?: RedisNode, timeoutMs?: number): Promise<RedisNode>;
  /** SIGKILLs `master` (default: some master); waits until one of its replicas took over and the cluster is ok. */
  killMaster(master?: RedisNode, timeoutMs?: number): Promise<{ killed: RedisNode; promoted: RedisNode }>;
  /** Stops every node and removes the temp dir. */
  stop(): Promise<void>;
}

/** Parses `CLUSTER NODES` output. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [id, addr, flags, master, , , , link, ...slots] = line.split(' ');
      const port = Number(/:(\d+)/.exec(addr ?? '')?.[1]);
      return {
        id: id!,
        port,
        flags: (flags ?? '').split(','),
        masterId: master && master !== '-' ? master : undefined,
        slots: slots.filter((s) => !s.startsWith('[')),
        connected: link === 'connected',
      };
    });
}

/**
 * Starts `masters * (1 + replicasPerMaster)` cluster-enabled redis-servers on ports below 22000 (their bus ports,
 * port + 10000, stay below 32768), joins them with `redis-cli --cluster create`, and waits for cluster_state:ok.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  requireBinary('redis-server');
  const redisCli = requireBinary('redis-cli');
  const masterCount = options.masters ?? 3;
  const perMaster = options.replicasPerMaster ?? 1;
  if (masterCount < 3) throw new RangeError('startRedisCluster: redis-cli --cluster create needs at least 3 masters');
  const total = masterCount * (1 + perMaster);
  const password = options.password;
  const dir = new TempDir('redis-cluster');
  const nodes: RedisNode[] = [];
  const used = new Set<number>();
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.process.stop()));
    await dir.remove();
  };
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(options.nodeTimeoutMs ?? 2000),
    ...replicationArgs(password, options.args),
  ];
  try {
    const started = await Promise.all(
      Array.from({ length: total }, () =>
        startOnFreePort(
          async () => {
            const port = await findFreePort({
              maxPort: MAX_CLUSTER_PORT,
              alsoFreeOffset: CLUSTER_BUS_OFFSET,
              exclude: used,
            });
            used.add(port);
            used.add(port + CLUSTER_BUS_OFFSET);
            return port;
          },
          async (port) => {
            const nodeDir = `${dir.path}/node-${port}`;
            await mkdir(nodeDir, { recursive: true });
            const handle = redisNodeHandle(await redisNodeProcess({ port, dir: nodeDir, args, password }).start(), {
              password,
            });
            nodes.push(handle);
            return handle;
          },
        ),
      ),
    );
    // keep start order stable: masters are the first `masterCount` addresses given to redis-cli
    nodes.splice(0, nodes.length, ...started);
    await runToCompletion(
      redisCli,
      [
        ...(password !== undefined ? ['--no-auth-warning', '-a', password] : []),
        '--cluster',
        'create',
        ...started.map((n) => n.address),
        '--cluster-replicas',
        String(perMaster),
        '--cluster-yes',
      ],
      { timeoutMs: 60_000 },
    );

    const live = () => nodes.filter((n) => n.process.running);
    const topology = async () => {
      let lastError: unknown;
      for (const node of live()) {
        try {
          return parseClusterNodes(String(await node.command('CLUSTER', 'NODES')));
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError ?? new Error('no running cluster node');
    };
    const byRole = async (role: 'master' | 'slave') => {
      const rows = await topology();
      return nodes.filter((n) =>
        rows.some((r) => r.port === n.port && r.flags.includes(role) && !r.flags.includes('fail')),
      );
    };
    const waitForClusterOk = async (timeoutMs = 30_000) => {
      await waitFor(
        async () => {
          let masters: string | undefined;
          for (const node of live()) {
            const info = parseInfo(String(await node.command('CLUSTER', 'INFO')));
            if (info.cluster_state !== 'ok' || info.cluster_slots_ok !== '16384') return false;
            const rows = parseClusterNodes(String(await node.command('CLUSTER', 'NODES')));
            const healthy = rows.filter((r) => !r.flags.includes('fail') && !r.flags.includes('fail?'));
            // Right after create/failover a node may still list a replica as an empty master: not settled yet.
            if (healthy.some((r) => r.flags.includes('master') && r.slots.length === 0)) return false;
            const view = healthy
              .map((r) => `${r.port}:${r.flags.includes('master') ? 'm' : `r>${r.masterId}`}`)
              .sort()
              .join(',');
            if (masters !== undefined && view !== masters) return false;
            masters = view;
          }
          return true;
        },
        { timeoutMs, intervalMs: 100, description: 'cluster_state:ok on every node' },
      );
    };
    await waitForClusterOk();

    return {
      nodes,
      startupNodes: nodes.map((n) => n.address).join(','),
      topology,
      masters: () => byRole('master'),
      replicas: () => byRole('slave'),
      waitForClusterOk,
      async failover(replica, timeoutMs = 30_000) {
        const target = replica ?? (await byRole('slave')).find((n) => n.process.running);
        if (!target) throw new Error('no replica to fail over to');
        await target.command('CLUSTER', 'FAILOVER');
        await waitFor(
          async () => {
            const role = await target.command('ROLE');
            return Array.isArray(role) && role[0] === 'master';
          },
          { timeoutMs, intervalMs: 100, description: `${target.address} to become master after CLUSTER FAILOVER` },
        );
        await waitForClusterOk(timeoutMs);
        return target;
      },
      async killMaster(master, timeoutMs = 30_000) {
        const rows = await topology();
        const killed = master ?? (await byRole('master'))[0];
        if (!killed) throw new Error('no master to kill');
        const id = rows.find((r) => r.port === killed.port)?.id;
        const replicaPorts = rows.filter((r) => r.masterId === id).map((r) => r.port);
        await killed.kill();
        const promoted = await waitFor(
          async () => {
            for (const node of nodes) {
              if (!replicaPorts.includes(node.port) || !node.process.running) continue;
              const role = await node.command('ROLE');
              if (Array.isArray(role) && role[0] === 'master') return node;
            }
            return false;
          },
          { timeoutMs, intervalMs: 100, description: `a replica of ${killed.address} to be promoted` },
        );
        await waitForClusterOk(timeoutMs);
        return { killed, promoted };
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
