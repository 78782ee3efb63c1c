import { ConfigError } from '@larder/core';
import type { FleetBackend, InvalidationHandlers, InvalidationSource } from '@larder/core/driver';
import { publishTopology, QUIET_FLEET_ROOT } from '@larder/core/driver';
import { type Cluster, Redis } from 'ioredis';
import { shardKey, shardTag } from '../bus/bus-shard';
import type { Connection } from '../connect';
import { redisFleet } from '../fleet-backend';
import { isCluster } from '../ioredis-internals';
import type { RedisClient } from '../options';
import { publishRefusal, TrackingLink } from './tracking-link';

/** Options of the tracking source. */
export interface TrackingOptions {
  /** Store prefix watched (`BCAST PREFIX`). */
  prefix: string;
  /** Store name (topology events). */
  store: string;
  /** `readers` is refused here: it needs the store's reads on one connection (`CommandTracking`). */
  tracking?: 'broadcast' | 'readers';
}

/**
 * `tracking` invalidation for an L1 in front of a Redis store: one `TrackingLink` per node the
 * store reads from — the primary (found through Sentinel when there is one) and each read
 * replica; in Cluster mode every node (primaries and replicas), rebuilt when the topology
 * changes. Up only while every link is armed; any link down (disconnect, killed connection,
 * failover, `tracking-redir-broken`) turns the source down: the L1 flushes and is bypassed.
 */
export function trackingSource(connection: Connection, options: TrackingOptions): InvalidationSource {
  if (options.tracking === 'readers') {
    // Default-mode tracking reports the keys one connection read: with replica reads or Cluster the
    // reads spread over connections whose tracking the links here cannot turn on.
    throw new ConfigError(
      "l1.tracking 'readers' needs the store's reads and writes on one connection (a single node or Sentinel, no replica reads, no Cluster, no injected client): use 'broadcast'",
      'l1.tracking',
    );
  }
  let links: TrackingLink[] = [];
  let handlers: InvalidationHandlers | undefined;
  let closed = false;
  let up = false;
  // A fence of the L1 barrier (docs/architecture.md "The barrier") means "every invalidation sent
  // before me was processed": with several nodes (replicas) it is passed on only once every link
  // reported it, i.e. after each node applied and announced what came before it in its stream.
  const fences = new Map<string, Set<TrackingLink>>();
  const heard = (link: TrackingLink, keys: string[]) => {
    if (links.length <= 1 || clusters.length > 0) return handlers?.onKeys(keys);
    const passed: string[] = [];
    for (const key of keys) {
      if (!isFence(key)) {
        passed.push(key);
        continue;
      }
      const seen = fences.get(key) ?? new Set<TrackingLink>();
      seen.add(link);
      if (links.every((one) => seen.has(one))) {
        fences.delete(key);
        passed.push(key);
      } else {
        if (fences.size >= MAX_PENDING_FENCES) fences.clear();
        fences.set(key, seen);
      }
    }
    if (passed.length > 0) handlers?.onKeys(passed);
  };
  const events = {
    onKeys: (keys: string[]) => handlers?.onKeys(keys),
    onFlush: () => handlers?.onFlush(),
    onState: () => {
      const now = !closed && links.length > 0 && links.every((link) => link.armed);
      if (!now) fences.clear();
      if (now === up) return;
      up = now;
      handlers?.onState(now);
    },
    onRefused: (error: Error) => publishRefusal(options.store, error),
  };
  const clients: RedisClient[] = [connection.primary, ...connection.replicas];
  const clusters = clients.filter(isCluster);

  const rebuild = () => {
    if (closed) return;
    const old = links;
    links = [];
    fences.clear();
    // Each link reports its keys as its own (fences are counted per link).
    const linked = (connect: () => Redis) => {
      const own = { ...events, onKeys: (keys: string[]) => heard(link, keys) };
      const link: TrackingLink = new TrackingLink(connect, options.prefix, own);
      return link;
    };
    for (const client of clients) {
      if (isCluster(client)) {
        for (const node of clusterNodes(client)) links.push(linked(() => nodeCopy(node)));
      } else {
        links.push(linked(() => client.duplicate(RESP2) as Redis));
      }
    }
    events.onState();
    for (const link of old) void link.close();
  };
  const onTopology = () => {
    publishTopology({ store: options.store, driver: 'redis', event: 'failover' });
    rebuild();
  };

  // On a Cluster the fleet's quiet keys (leases, registry, acknowledgements) go under one hash tag:
  // a barrier reads N leases and N acknowledgements in one MGET each, not one per slot.
  const tag = shardTag(options.prefix);
  const inSlot = (key: string) => (key.startsWith(QUIET_FLEET_ROOT) ? shardKey(tag, key) : key);
  const cluster = clusters[0];
  const fleet: FleetBackend | undefined =
    cluster === undefined ? undefined : redisFleet(() => ({ redis: cluster, key: inSlot }), { inCacheStore: true });

  return {
    mode: 'tracking',
    ...(fleet !== undefined && { fleetStore: () => fleet }),
    start(given) {
      handlers = given;
      given.onState(false);
      for (const cluster of clusters) {
        cluster.on('+node', onTopology);
        cluster.on('-node', onTopology);
      }
      // A Cluster knows its nodes once ready; a plain client can be duplicated now.
      if (clusters.length === 0) rebuild();
      else
        Promise.all(clusters.map((cluster) => (cluster.status === 'ready' ? undefined : cluster.ping())))
          .catch(() => undefined)
          .then(rebuild);
    },
    async close() {
      closed = true;
      for (const cluster of clusters) {
        cluster.off('+node', onTopology);
        cluster.off('-node', onTopology);
      }
      events.onState();
      await Promise.allSettled(links.map((link) => link.close()));
      links = [];
    },
  };
}

/** Fences heard from some links but not all yet; more means links are lagging or gone: forget them (those barriers end with E_L1_BARRIER). */
const MAX_PENDING_FENCES = 1024;
const FENCE = '__larder:l1:fence:';

/** A fence key of the L1 barrier (`<prefix>__larder:l1:fence:<fid>`, not an acknowledgement `...:<fid>:<id>`). */
function isFence(key: string): boolean {
  const at = key.lastIndexOf(FENCE);
  return at >= 0 && !key.includes(':', at + FENCE.length);
}

const RESP2 = { protocol: 2, autoResubscribe: false, enableOfflineQueue: true, lazyConnect: false } as const;

/** Nodes of a Cluster client (masters and replicas); none before its slots are known. */
function clusterNodes(cluster: Cluster): Redis[] {
  return cluster.nodes('all');
}

/** A connection to the same node as `node` (its options: address, credentials, TLS), RESP2. */
function nodeCopy(node: Redis): Redis {
  return new Redis({ ...node.options, ...RESP2, readOnly: false, maxRetriesPerRequest: 0 });
}
