import type { ConnectionOptions } from 'node:tls';
import type { StoreDescription } from '@larder/core';
import { formatHostPort, type NodeDescription, type NodeStatus } from '@larder/core/driver';
import type { Cluster, Redis } from 'ioredis';
import type { Connection } from './connect';
import { type ClientNote, clientNote, isCluster, remoteAddress } from './ioredis-internals';
import type { RedisClient } from './options';
import { type SentinelAddress, sentinelNodes } from './sentinel-nodes';

const SLOTS = 16384;

/** `CLUSTER SLOTS` rows: [from, to, [host, port, id?], ...replicas]. */
type SlotRow = [number, number, [string, number, ...unknown[]], ...[string, number, ...unknown[]][]];

/** The store's description: topology and health, and `client` when ioredis lacks internals the store uses. */
export interface RedisDescription extends StoreDescription {
  /** Only when the probe found ioredis internals missing (see ioredis-internals.ts): which, and what the store does instead. */
  client?: ClientNote;
}

/**
 * The store's topology as data: Cluster from `CLUSTER SLOTS` (slot shares, coverage), otherwise
 * the primary's `INFO replication` (its role and the replicas it sees, with state and lag), plus
 * the replica clients this store reads from. Rejects (through `fail`) when the primary does not answer.
 */
export async function describeRedis(
  connection: Connection,
  fail: (error: unknown) => never,
): Promise<RedisDescription> {
  const { mode, primary } = connection;
  try {
    if (isCluster(primary)) return withNote({ driver: 'redis', topology: await clusterTopology(primary) });
    const info = parseInfo(await (primary as Redis).info('replication'));
    const self: NodeDescription = {
      address: addressOf(primary),
      role: info.role === 'slave' ? 'replica' : 'primary',
      status: 'up',
    };
    const seen = Object.entries(info)
      .filter(([key]) => /^slave\d+$/.test(key))
      .map(([, value]) => replicaOf(value));
    const nodes = [self, ...seen];
    if (mode === 'sentinel') {
      const options = (primary as Redis).options as { sentinels?: SentinelAddress[]; sentinelTLS?: ConnectionOptions };
      nodes.push(...(await sentinelNodes(options.sentinels ?? [], options.sentinelTLS)));
    }
    const description: RedisDescription = { driver: 'redis', topology: { mode, nodes } };
    if (connection.replicas.length > 0) {
      description.replicas = connection.replicas.map((client) => ({
        address: addressOf(client),
        status: statusOf(client),
      }));
    }
    return withNote(description);
  } catch (error) {
    return fail(error);
  }
}

// The note is there only when something is missing: a store using every piece describes as before.
function withNote(description: RedisDescription): RedisDescription {
  const note = clientNote();
  if (note.missing.length > 0) description.client = note;
  return description;
}

async function clusterTopology(cluster: Cluster): Promise<StoreDescription['topology']> {
  const rows = (await cluster.cluster('SLOTS')) as unknown as SlotRow[];
  const status = clusterHealth(String(await cluster.cluster('NODES')));
  const nodes = new Map<string, NodeDescription>();
  let covered = 0;
  for (const [from, to, master, ...replicas] of rows) {
    covered += to - from + 1;
    const address = formatHostPort({ host: master[0], port: master[1] });
    const node = nodes.get(address) ?? { address, role: 'primary', status: status.get(address) ?? 'up', slots: 0 };
    node.slots = (node.slots ?? 0) + (to - from + 1);
    node.share = node.slots / SLOTS;
    nodes.set(address, node);
    for (const [host, port] of replicas) {
      const replica = formatHostPort({ host, port });
      if (!nodes.has(replica))
        nodes.set(replica, { address: replica, role: 'replica', status: status.get(replica) ?? 'up' });
    }
  }
  return { mode: 'cluster', nodes: [...nodes.values()], slots: { covered, ranges: rows.length } };
}

/**
 * Node health as the cluster sees it (`CLUSTER NODES`: `<id> <ip:port@cport> <flags> ... <link-state> ...`):
 * a node flagged `fail`/`fail?` or with its link down is down. The client's own sockets say less:
 * ioredis connects to a node only when a command goes there.
 */
function clusterHealth(text: string): Map<string, NodeStatus> {
  const health = new Map<string, NodeStatus>();
  for (const line of text.split('\n')) {
    const [, address, flags, , , , , link] = line.trim().split(' ');
    if (!address || !flags) continue;
    const down = flags.split(',').some((flag) => flag.startsWith('fail')) || link === 'disconnected';
    health.set(address.split('@')[0] as string, down ? 'down' : 'up');
  }
  return health;
}

/** `ip=10.0.0.2,port=6379,state=online,offset=123,lag=0` as the primary reports a replica. */
function replicaOf(value: string): NodeDescription {
  const fields = Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string]));
  const node: NodeDescription = {
    address: formatHostPort({ host: fields.ip ?? '?', port: Number(fields.port) }),
    role: 'replica',
    status: fields.state === 'online' ? 'up' : 'down',
  };
  if (fields.state !== undefined) node.state = fields.state;
  if (fields.lag !== undefined) node.lagSeconds = Number(fields.lag);
  return node;
}

/** Where the client is connected (Sentinel mode: the primary it was given), else its configured address. */
/** `host:port` of the server a client talks to: for a Cluster, its first startup node. */
export function clientAddress(client: RedisClient): string | undefined {
  if (!isCluster(client)) return addressOf(client);
  const first = (client as unknown as { startupNodes?: { host?: string; port?: number }[] }).startupNodes?.[0];
  return first === undefined
    ? undefined
    : formatHostPort({ host: first.host ?? '127.0.0.1', port: first.port ?? 6379 });
}

function addressOf(client: RedisClient): string {
  const connected = remoteAddress(client);
  if (connected !== undefined) return formatHostPort(connected);
  const redis = client as Redis;
  return formatHostPort({ host: redis.options?.host ?? '127.0.0.1', port: redis.options?.port ?? 6379 });
}

function statusOf(client: RedisClient): NodeStatus {
  return client.status === 'ready' ? 'up' : 'down';
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}
