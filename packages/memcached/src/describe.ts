import type { StoreDescription } from '@larder/core';
import { formatHostPort } from '@larder/core/driver';
import type { DiscoveryPoller } from './discovery/poller';
import type { NodeAddress } from './options';
import type { Topology } from './topology';

/**
 * The store's topology as data, from what it already knows (no request is sent): the nodes in
 * use with their ring shares, ejected ones (out of the ring, probed until they answer), and with
 * auto-discovery the configuration endpoint, the config version in use and the last poll.
 */
export function describeMemcached(
  topology: Topology,
  poller: DiscoveryPoller | undefined,
  configEndpoint: NodeAddress | undefined,
): StoreDescription {
  // The ring id: `host:port` as configured or as discovered (the DNS name ElastiCache gives the node).
  const nodes = topology.snapshot().map(({ id, ejected, share }) => ({
    address: id,
    role: 'node' as const,
    status: ejected ? ('ejected' as const) : ('up' as const),
    share,
  }));
  if (!configEndpoint) return { driver: 'memcached', topology: { mode: 'static', nodes } };
  const endpoint = formatHostPort(configEndpoint);
  const last = poller?.lastPoll;
  const version = poller?.currentVersion;
  return {
    driver: 'memcached',
    topology: {
      mode: 'discovery',
      nodes: [{ address: endpoint, role: 'config-endpoint', status: last?.ok === false ? 'down' : 'up' }, ...nodes],
    },
    discovery: {
      endpoint,
      ...(version !== undefined && Number.isFinite(version) ? { version } : {}),
      ...(last ? { lastPollAt: last.at } : {}),
      ok: last?.ok ?? false,
    },
  };
}
