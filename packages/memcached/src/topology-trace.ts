import type { EventEmitter } from 'node:events';
import { publishTopology } from '@larder/core/driver';
import type { TopologyEvent } from './discovery/poller';

const DRIVER = 'memcached';

/**
 * Publishes the store's topology changes on `larder.topology` (docs/architecture.md "Observability"):
 * each discovery (with its config version), the nodes it added and removed, ejections and
 * readmissions. Listens to the store's own telemetry events, so the paths that change the
 * topology stay as they are; `publishTopology` does nothing while nobody subscribes.
 */
export function traceTopology(events: EventEmitter, storeName: () => string): void {
  let known = new Set<string>();
  events.on('topology', (event: TopologyEvent) => {
    const store = storeName();
    const next = new Set(event.nodes.map((node) => `${node.host}:${node.port}`));
    publishTopology({ store, driver: DRIVER, event: 'discovery', version: event.version });
    for (const node of next)
      if (!known.has(node)) publishTopology({ store, driver: DRIVER, event: 'node-added', node });
    for (const node of known)
      if (!next.has(node)) publishTopology({ store, driver: DRIVER, event: 'node-removed', node });
    known = next;
  });
  events.on('nodeEjected', (node: string) => {
    publishTopology({ store: storeName(), driver: DRIVER, event: 'node-ejected', node });
  });
  events.on('nodeReadmitted', (node: string) => {
    publishTopology({ store: storeName(), driver: DRIVER, event: 'node-readmitted', node });
  });
}
