import type { StoreDescription } from '@larder/core';
import { formatHostPort } from '@larder/core/driver';
import type { DiscoveryPoller } from './discovery/poller';
import type { NodeAddress } from './options';
import type { Topology } from './topology';

/**
 * The store's topology as data: the nodes in use with their ring shares and their state now
 * (each node in the ring gets a NOOP: one that does not answer is `down`, even while the ring
 * still holds it, as it does for the last node; ejected ones are out of the ring, probed in the
 * background until they answer), and with auto-discovery the configuration endpoint, the config
 * version in use and the last poll.
 */
export async function describeMemcached(
  topology: Topology,
  poller: DiscoveryPoller | undefined,
  configEndpoint: NodeAddress | undefined,
): Promise<StoreDescription> {
  // The ring id: `host:port` as configured or as discovered (the DNS name ElastiCache gives the node).
  const nodes = await Promise.all(
    topology.snapshot().map(async ({ id, ejected, share }) => ({
      address: id,
      role: 'node' as const,
      status: ejected ? ('ejected' as const) : (await topology.answers(id)) ? ('up' as const) : ('down' as const),
      share,
    })),
  );
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
