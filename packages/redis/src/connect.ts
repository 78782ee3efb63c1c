import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { type CommandDeadlines, timedByDeadlines } from './command-deadlines';
import { watchConnectionErrors } from './explain';
import { deadlinesSupported, timeClusterSubmits } from './ioredis-internals';
import type { NodeAddress, RedisClient, RedisMode, ResolvedRedisOptions } from './options';

/** The clients a store talks to. */
export interface Connection {
  mode: RedisMode;
  /** Where writes (and primary reads) go. */
  primary: RedisClient;
  /** Where replica reads go (empty unless `readFrom: 'replica'`). */
  replicas: RedisClient[];
  /** Clients this store created, and so closes. */
  owned: RedisClient[];
  /** The command timeouts of the (non-Cluster) clients this store created; closed with them. */
  deadlines: CommandDeadlines[];
}

// Reconnect quickly (50 ms doubling to 1 s, jittered): a cache that comes back should be used
// again at once, and every failed attempt also fails the queued commands (maxRetriesPerRequest 0).
// First TCP keep-alive probe after this much idle time (Linux then probes every 75 s by default).
const KEEP_ALIVE_MS = 10_000;

function retryStrategy(times: number): number {
  return Math.min(50 * 2 ** Math.min(times - 1, 10), 1000) + Math.floor(Math.random() * 50);
}

// After a failover an old primary (or an endpoint that now resolves to a replica) answers
// READONLY: reconnect so that Sentinel / DNS give the new primary, and resend the command.
function reconnectOnError(error: Error): boolean | 2 {
  return error.message.startsWith('READONLY') ? 2 : false;
}

function commonOptions(o: ResolvedRedisOptions): RedisOptions {
  return {
    ...o.source.redisOptions,
    commandTimeout: o.commandTimeoutMs,
    // A command timeout alone keeps the connection: through a half-open or blackholed network every
    // later command would time out too, for good. No reply for this long while commands wait means
    // the connection is dead: ioredis destroys it and reconnects.
    socketTimeout: o.commandTimeoutMs,
    // Probes an idle connection, so that one whose peer vanished is noticed without traffic.
    keepAlive: KEEP_ALIVE_MS,
    connectTimeout: o.connectTimeoutMs,
    // Commands fail (BackendError) instead of waiting in the offline queue across reconnect
    // attempts, and a command in flight when the connection drops is never resent (an
    // INCRBY must not apply twice).
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    enableAutoPipelining: o.autoPipelining,
    retryStrategy,
    reconnectOnError,
  };
}

function tlsFor(address: NodeAddress, o: ResolvedRedisOptions): ConnectionOptions | undefined {
  if (!address.tls) return undefined;
  return { ...(o.tls ?? {}) };
}

function nodeOptions(address: NodeAddress, o: ResolvedRedisOptions): RedisOptions {
  const options: RedisOptions = {
    ...commonOptions(o),
    host: address.host,
    port: address.port,
  };
  if (address.username !== undefined) options.username = address.username;
  if (address.password !== undefined) options.password = address.password;
  if (address.db !== undefined) options.db = address.db;
  const tls = tlsFor(address, o);
  // SNI must be a host name (RFC 6066); for an IP the certificate's IP SAN is checked instead.
  if (tls) options.tls = isIP(address.host) ? tls : { servername: address.host, ...tls };
  return options;
}

// A node client (single, replica, Sentinel) times its commands with one timer (`timeCommands`):
// ioredis' `commandTimeout` and `socketTimeout` arm up to two timers per command.
// Without what the deadlines read (see ioredis-internals.ts), ioredis' own timeouts stay.
function timedNode(options: RedisOptions, o: ResolvedRedisOptions, deadlines: CommandDeadlines[]): Redis {
  if (!deadlinesSupported()) return quiet(new Redis(options));
  const { commandTimeout, socketTimeout, ...untimed } = options;
  const client = quiet(new Redis(untimed));
  deadlines.push(timedByDeadlines(client, o.commandTimeoutMs));
  return client;
}

// Clients we create report errors through rejected commands; without a listener ioredis would
// print every reconnect attempt as an "Unhandled error event". The last one is kept: it is the
// cause of commands that fail only because the connection is down (see explain.ts).
function quiet<T extends RedisClient>(client: T): T {
  return watchConnectionErrors(client);
}

/** Creates (or adopts) the clients for the configured mode. */
export function connect(o: ResolvedRedisOptions): Connection {
  const source = o.source;
  const wantReplicas = o.readFrom === 'replica';
  if (o.mode === 'client') {
    return {
      mode: 'client',
      primary: source.client!,
      replicas: wantReplicas ? (source.replicaClients ?? []) : [],
      owned: [],
      deadlines: [],
    };
  }
  const primaryAddress = o.primary!;
  if (o.mode === 'cluster') {
    const make = (scaleReads: 'master' | 'slave') => {
      const redisOptions = { ...nodeOptions(primaryAddress, o) } as Record<string, unknown>;
      delete redisOptions.host;
      delete redisOptions.port;
      delete redisOptions.db;
      delete redisOptions.enableOfflineQueue;
      delete redisOptions.retryStrategy;
      const tls = redisOptions.tls as ConnectionOptions | undefined;
      if (tls) delete tls.servername;
      const cluster = quiet(
        new Cluster(source.clusterNodes!, {
          // ioredis reads CLUSTER SLOTS at connect and on MOVED only: refresh periodically so that
          // replicas added (or synced) later are used for replica reads.
          slotsRefreshInterval: 5000,
          ...source.clusterOptions,
          scaleReads,
          // Cluster multi-key operations are split by slot and sent concurrently; auto-pipelining
          // turns them back into one write per node.
          enableAutoPipelining: true,
          enableOfflineQueue: true,
          slotsRefreshTimeout: o.connectTimeoutMs,
          clusterRetryStrategy: (times: number) => Math.min(100 * times, 2000),
          // ElastiCache TLS certificates name the configuration endpoint, not the node IPs
          // CLUSTER SLOTS returns: keep the host names as given.
          ...(tls
            ? { dnsLookup: (address: string, callback: (e: null, a: string) => void) => callback(null, address) }
            : {}),
          redisOptions: redisOptions as RedisOptions,
        }),
      );
      return timeClusterSubmits(cluster, o.commandTimeoutMs);
    };
    const primary = make('master');
    const replicas = wantReplicas ? [make('slave')] : [];
    return { mode: 'cluster', primary, replicas, owned: [primary, ...replicas], deadlines: [] };
  }
  const deadlines: CommandDeadlines[] = [];
  if (o.mode === 'sentinel') {
    const make = (role: 'master' | 'slave') => {
      const options = nodeOptions(primaryAddress, o);
      delete options.host;
      delete options.port;
      const tls = options.tls;
      return timedNode(
        {
          ...options,
          sentinels: source.sentinels!,
          name: source.sentinelName ?? 'mymaster',
          role,
          sentinelPassword: source.sentinelPassword,
          sentinelUsername: source.sentinelUsername,
          enableTLSForSentinelMode: !!tls,
          // Subscribe to +switch-master so a promotion is picked up without waiting for an error.
          failoverDetector: role === 'master',
        },
        o,
        deadlines,
      );
    };
    const primary = make('master');
    const replicas = wantReplicas ? [make('slave')] : [];
    return { mode: 'sentinel', primary, replicas, owned: [primary, ...replicas], deadlines };
  }
  const primary = timedNode(nodeOptions(primaryAddress, o), o, deadlines);
  const replicas = wantReplicas ? o.replicas.map((address) => timedNode(nodeOptions(address, o), o, deadlines)) : [];
  return { mode: o.mode, primary, replicas, owned: [primary, ...replicas], deadlines };
}

/** Quits the clients the store created (injected clients stay open), then closes their command timeouts. */
export async function closeConnection(connection: Connection): Promise<void> {
  await Promise.all(
    connection.owned.map(async (client) => {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    }),
  );
  for (const deadlines of connection.deadlines) deadlines.close();
}
