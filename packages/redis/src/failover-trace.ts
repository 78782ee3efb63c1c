import { publishTopology } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { remoteAddress } from './ioredis-internals';

/**
 * Publishes `failover` on `larder.topology` (docs/architecture.md "Observability") when a Sentinel-managed
 * primary connection comes back ready on another node than before: after `+switch-master` (the
 * failover detector disconnects it) or after a reconnect that Sentinel sent elsewhere. `node` is
 * the new primary's `host:port` as connected.
 */
export function traceFailover(client: Redis, storeName: () => string): void {
  let current: string | undefined;
  client.on('ready', () => {
    const address = remoteAddress(client);
    if (address === undefined) return;
    const node = `${address.host}:${address.port}`;
    const previous = current;
    current = node;
    if (previous !== undefined && previous !== node) {
      publishTopology({ store: storeName(), driver: 'redis', event: 'failover', node });
    }
  });
}
