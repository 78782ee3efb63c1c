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

/**
 * The bus's one RESP3 connection, which both subscribes and runs commands. On a single node: the
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
    const redis = new Redis(at.toString(), {
      protocol: 3,
      autoResubscribe: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 5), 1000),
    });
    client = redis;
    const mine = () => client === redis && !closed;
    redis.on('error', () => {});
    redis.on('close', () => {
      if (!mine()) return;
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
        (found) => {
          if (!mine() || found === undefined) return;
          attempt = 0;
          listening = found.channel;
          events.up(redis, found);
        },
        () => mine() && redis.disconnect(true),
      );
    });
  };

  /** Subscribes where this node is right for it; else moves to the slot's master and resolves undefined. */
  const route = async (redis: Redis): Promise<BusRoute | undefined> => {
    const [slots, id] = await Promise.all([
      // Any error reply (cluster support disabled, a command renamed away or denied by an ACL) means a
      // single node, as before the bus knew of Clusters; a lost connection is retried.
      redis.call('CLUSTER', 'SLOTS').catch((error: Error) => (error.name === 'ReplyError' ? null : error)),
      redis.call('CLUSTER', 'MYID').catch(() => undefined),
    ]);
    if (slots instanceof Error) throw slots;
    if (slots === null) {
      const channel = busChannel(prefix);
      await redis.subscribe(channel);
      return { channel, sharded: false };
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
    return { channel, sharded: true };
  };

  /** Leaves `redis` for `target` (or, when undefined, the next node it knows), after a backoff once attempts fail. */
  const move = (redis: Redis, target: NodeAddress | undefined) => {
    if (client !== redis) return;
    client = undefined;
    events.down();
    redis.disconnect();
    const to = target ?? known[next++ % known.length];
    timer = setTimeout(() => connect(to), attempt++ === 0 ? 0 : backoff(attempt));
  };

  /** On a Cluster the same node may no longer serve the channel: ask the nodes in turn; a single node reconnects. */
  const relocate = (redis: Redis) => move(redis, undefined);

  connect(undefined);
  return {
    drop(redis) {
      if (client !== redis) return;
      if (cluster) relocate(redis);
      else redis.disconnect(true);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const redis = client;
      client = undefined;
      if (redis === undefined) return;
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
