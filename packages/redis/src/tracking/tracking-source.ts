import type { InvalidationHandlers, InvalidationSource } from '@larder/core/driver';
import { publishTopology } from '@larder/core/driver';
import { type Cluster, Redis } from 'ioredis';
import type { Connection } from '../connect';
import { isCluster } from '../ioredis-internals';
import type { RedisClient } from '../options';
import { publishRefusal, TrackingLink } from './tracking-link';

/** Options of the tracking source. */
export interface TrackingOptions {
  /** Store prefix watched (`BCAST PREFIX`). */
  prefix: string;
  /** Store name (topology events). */
  store: string;
}

/**
 * `tracking` invalidation for an L1 in front of a Redis store: one `TrackingLink` per node the
 * store reads from — the primary (found through Sentinel when there is one) and each read
 * replica; in Cluster mode every node (primaries and replicas), rebuilt when the topology
 * changes. Up only while every link is armed; any link down (disconnect, killed connection,
 * failover, `tracking-redir-broken`) turns the source down: the L1 flushes and is bypassed.
 */
export function trackingSource(connection: Connection, options: TrackingOptions): InvalidationSource {
  let links: TrackingLink[] = [];
  let handlers: InvalidationHandlers | undefined;
  let closed = false;
  let up = false;
  const events = {
    onKeys: (keys: string[]) => handlers?.onKeys(keys),
    onFlush: () => handlers?.onFlush(),
    onState: () => {
      const now = !closed && links.length > 0 && links.every((link) => link.armed);
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
    for (const client of clients) {
      if (isCluster(client)) {
        for (const node of clusterNodes(client))
          links.push(new TrackingLink(() => nodeCopy(node), options.prefix, events));
      } else {
        links.push(new TrackingLink(() => client.duplicate(RESP2) as Redis, options.prefix, events));
      }
    }
    events.onState();
    for (const link of old) void link.close();
  };
  const onTopology = () => {
    publishTopology({ store: options.store, driver: 'redis', event: 'failover' });
    rebuild();
  };

  return {
    mode: 'tracking',
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

const RESP2 = { protocol: 2, autoResubscribe: false, enableOfflineQueue: true, lazyConnect: false } as const;

/** Nodes of a Cluster client (masters and replicas); none before its slots are known. */
function clusterNodes(cluster: Cluster): Redis[] {
  return cluster.nodes('all');
}

/** A connection to the same node as `node` (its options: address, credentials, TLS), RESP2. */
function nodeCopy(node: Redis): Redis {
  return new Redis({ ...node.options, ...RESP2, readOnly: false, maxRetriesPerRequest: 0 });
}
