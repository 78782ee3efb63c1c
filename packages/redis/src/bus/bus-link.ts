import { Redis } from 'ioredis';
import { busChannel, type NodeAddress, shardChannel, slotOwner } from './bus-shard';

/** Where the bus listens and speaks once its connection is ready (`BusLink`). */
export interface BusRoute {
  /** The channel: classic on a single node, sharded (with the fleet's hash tag) on a Cluster. */
  channel: string;
  /** On a Redis Cluster: SSUBSCRIBE / SPUBLISH on the master of the channel's slot. */
  sharded: boolean;
}

/** What `openBusLink` tells its owner. */
export interface BusLinkEvents {
  /** The connection is ready and subscribed on `route`: the bus is up. */
  up(redis: Redis, route: BusRoute): void;
  /** The connection is lost or leaving its node: the bus is down until the next `up`. */
  down(): void;
  /** A message on the channel. */
  message(text: string): void;
}

/** The bus's one connection (`openBusLink`). */
export interface BusLink {
  /** Drops the connection after a failed command; it connects again (on a Cluster, to the channel's master as then known). */
  drop(redis: Redis): void;
  /** Closes the connection for good. */
  close(): Promise<void>;
}

const backoff = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000);

const connectionOptions = {
  protocol: 3,
  // `CLIENT LIST` names the bus's connections (the subscribed one and, on RESP2, the commands').
  connectionName: 'larder-bus',
  autoResubscribe: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 2000,
  connectTimeout: 2000,
  retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times - 1, 5), 1000),
} as const;

/**
 * The bus's one RESP3 connection, which both subscribes and runs commands (with an ioredis or a
 * server that speaks only RESP2, a subscribed connection refuses commands: a second connection to
 * the same node then runs them, and the bus is up only while both are). On a single node: the
 * node at `url`, SUBSCRIBE on `__larder:l1:<prefix>`, reconnecting by itself. On a Redis Cluster
 * (the node at `url` answers `CLUSTER SLOTS`): sharded pub/sub (Redis ≥ 7), so a message is copied
 * to the shard of the channel's slot only, not to every node as PUBLISH is: the connection moves to
 * the master of that slot and SSUBSCRIBEs there; when it is lost (a failover), when Redis
 * unsubscribes it (the slot migrated) or a publish fails (MOVED), it asks the nodes it knows, in
 * turn, for the slot's master again and moves there. Limit: it connects to the addresses the
 * Cluster announces (no NAT map, unlike an ioredis `Cluster`).
 */
export function openBusLink(url: string, prefix: string, events: BusLinkEvents): BusLink {
  const seed = new URL(url);
  // An IPv6 host is bracketed in a URL, not in an address.
  let known: NodeAddress[] = [{ host: seed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(seed.port || 6379) }];
  let next = 0;
  let attempt = 0;
  let client: Redis | undefined;
  /** The commands' connection when the subscribed one speaks RESP2 (ioredis 5, or a server without HELLO 3). */
  let companion: Redis | undefined;
  let closed = false;
  /** The node answered `CLUSTER SLOTS`: a lost connection moves on instead of waiting for its node. */
  let cluster = false;
  let timer: NodeJS.Timeout | undefined;
  let listening: string | undefined;

  const connect = (target: NodeAddress | undefined) => {
    if (closed) return;
    const at = new URL(url);
    if (target !== undefined) {
      at.hostname = target.host.includes(':') ? `[${target.host}]` : target.host;
      at.port = String(target.port);
    }
    const redis = new Redis(at.toString(), connectionOptions);
    client = redis;
    const mine = () => client === redis && !closed;
    redis.on('error', () => {});
    redis.on('close', () => {
      if (!mine()) return;
      dropCompanion();
      events.down();
      if (cluster) relocate(redis);
    });
    redis.on('reconnecting', () => mine() && events.down());
    const heard = (channel: string, text: string) => mine() && channel === listening && events.message(text);
    redis.on('message', heard);
    redis.on('smessage', heard);
    // Redis unsubscribed a sharded channel whose slot left this node (ioredis emits `moved`).
    redis.on('moved', () => mine() && relocate(redis));
    redis.on('ready', () => {
      route(redis).then(
        async (found) => {
          if (!mine() || found === undefined) return;
          const commands = found.resp3 ? redis : await openCompanion(redis);
          if (!mine() || commands === undefined) return;
          attempt = 0;
          listening = found.channel;
          events.up(commands, found);
        },
        () => mine() && redis.disconnect(true),
      );
    });
  };

  /**
   * A second connection to `redis`'s node for the commands, once it is ready (undefined if it is
   * not within the connect timeout: `redis` is then dropped and connects again). Losing it drops `redis`.
   */
  const openCompanion = async (redis: Redis): Promise<Redis | undefined> => {
    const commands = new Redis({ ...redis.options, protocol: 2, lazyConnect: true });
    companion = commands;
    commands.on('error', () => {});
    commands.on('close', () => {
      if (companion !== commands || closed) return;
      companion = undefined;
      commands.disconnect();
      if (client === redis) link.drop(redis);
    });
    try {
      await commands.connect();
      return commands;
    } catch {
      if (companion === commands) link.drop(redis);
      return undefined;
    }
  };

  const dropCompanion = () => {
    const commands = companion;
    companion = undefined;
    commands?.disconnect();
  };

  /** Subscribes where this node is right for it; else moves to the slot's master and resolves undefined. */
  const route = async (redis: Redis): Promise<(BusRoute & { resp3: boolean }) | undefined> => {
    const [slots, id, info] = await Promise.all([
      // Any error reply (cluster support disabled, a command renamed away or denied by an ACL) means a
      // single node, as before the bus knew of Clusters; a lost connection is retried.
      redis.call('CLUSTER', 'SLOTS').catch((error: Error) => (error.name === 'ReplyError' ? null : error)),
      redis.call('CLUSTER', 'MYID').catch(() => undefined),
      // What the connection speaks (ioredis 5 ignores `protocol: 3`); no answer (Redis < 6.2): RESP2.
      redis.call('CLIENT', 'INFO').catch(() => ''),
    ]);
    if (slots instanceof Error) throw slots;
    const resp3 = /\bresp=3\b/.test(String(info));
    if (slots === null) {
      const channel = busChannel(prefix);
      await redis.subscribe(channel);
      return { channel, sharded: false, resp3 };
    }
    cluster = true;
    const channel = shardChannel(prefix);
    const owner = slotOwner(slots, channel, redis.options.host ?? seed.hostname);
    if (owner.nodes.length > 0) known = owner.nodes;
    const here = (master: NodeAddress & { id: string }) =>
      id !== undefined
        ? master.id === String(id)
        : master.host === redis.options.host && master.port === redis.options.port;
    if (owner.master === undefined || !here(owner.master)) {
      move(redis, owner.master);
      return undefined;
    }
    await redis.ssubscribe(channel);
    return { channel, sharded: true, resp3 };
  };

  /** Leaves `redis` for `target` (or, when undefined, the next node it knows), after a backoff once attempts fail. */
  const move = (redis: Redis, target: NodeAddress | undefined) => {
    if (client !== redis) return;
    client = undefined;
    dropCompanion();
    events.down();
    redis.disconnect();
    const to = target ?? known[next++ % known.length];
    timer = setTimeout(() => connect(to), attempt++ === 0 ? 0 : backoff(attempt));
  };

  /** On a Cluster the same node may no longer serve the channel: ask the nodes in turn; a single node reconnects. */
  const relocate = (redis: Redis) => move(redis, undefined);

  const link: BusLink = {
    drop(redis) {
      const subscribed = client;
      if (subscribed === undefined || (redis !== subscribed && redis !== companion)) return;
      dropCompanion();
      if (cluster) relocate(subscribed);
      else subscribed.disconnect(true);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const redis = client;
      const commands = companion;
      client = undefined;
      companion = undefined;
      await Promise.all([redis, commands].map((c) => c?.quit().catch(() => undefined)));
      redis?.disconnect();
      commands?.disconnect();
    },
  };
  connect(undefined);
  return link;
}
