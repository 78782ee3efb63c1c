import { publishTopology } from '@larder/core/driver';
import type { Redis } from 'ioredis';

/**
 * Publishes `failover` on `larder.topology` (DESIGN.md "Observability") when a Sentinel-managed
 * primary connection comes back ready on another node than before: after `+switch-master` (the
 * failover detector disconnects it) or after a reconnect that Sentinel sent elsewhere. `node` is
 * the new primary's `host:port` as connected.
 */
export function traceFailover(client: Redis, storeName: () => string): void {
  let current: string | undefined;
  client.on('ready', () => {
    const stream = client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
    if (stream?.remoteAddress === undefined) return;
    const node = `${stream.remoteAddress}:${stream.remotePort}`;
    const previous = current;
    current = node;
    if (previous !== undefined && previous !== node) {
      publishTopology({ store: storeName(), driver: 'redis', event: 'failover', node });
    }
  });
}
