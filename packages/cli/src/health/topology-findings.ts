import type { StoreDescription } from '@larder/core';
import type { NodeDescription } from '@larder/core/driver';

/** What a store's `describe()` data says: one line, a failure (no node serves) and warnings (some nodes down). */
export interface TopologyFindings {
  line: string;
  failure?: string;
  warnings: string[];
}

/**
 * Reads a description: the store fails when none of its serving nodes is up (the configuration
 * endpoint and replicas do not serve the keys), or its table is not ACTIVE; nodes down or ejected
 * while others serve, replicas down and a failed discovery poll are warnings.
 */
export function topologyFindings(description: StoreDescription): TopologyFindings {
  const line = topologyLine(description);
  const nodes = description.topology.nodes;
  const serving = nodes.filter((n) => n.role === 'primary' || n.role === 'node');
  const down = (list: NodeDescription[]) =>
    list.filter((n) => n.status !== 'up').map((n) => `${n.address} (${n.status})`);
  const warnings: string[] = [];
  if (serving.length > 0 && serving.every((n) => n.status !== 'up')) {
    return { line, failure: `no node is up: ${down(serving).join(', ')}`, warnings };
  }
  if (description.table && !['ACTIVE', 'UPDATING'].includes(description.table.status)) {
    return { line, failure: `table ${description.table.name} is ${description.table.status}, not ACTIVE`, warnings };
  }
  if (down(serving).length) warnings.push(`node(s) not serving: ${down(serving).join(', ')}`);
  const replicas = [...nodes.filter((n) => n.role === 'replica'), ...(description.replicas ?? [])];
  const replicasDown = replicas.filter((n) => n.status !== 'up').map((n) => `${n.address} (${n.status})`);
  if (replicasDown.length) warnings.push(`replica(s) down: ${[...new Set(replicasDown)].join(', ')}`);
  if (description.discovery && !description.discovery.ok) {
    warnings.push(
      `discovery on ${description.discovery.endpoint} failed its last poll: serving the last good node list`,
    );
  }
  return { line, warnings };
}

/**
 * One line summing up a store's `describe()` data, chosen by what the data holds (no driver names):
 * a table, discovery, Cluster slots, a primary and its replicas, or a plain node list.
 */
function topologyLine(description: StoreDescription): string {
  const { topology, table, discovery, replicas } = description;
  const nodes = topology.nodes;
  if (topology.mode === 'in-process') return 'in-process (this process only; not shared between app instances)';
  if (table) {
    const items = table.itemCount === undefined ? '' : `, ~${table.itemCount} items`;
    const ttl = table.ttlAttribute ? `${table.ttlStatus} on ${table.ttlAttribute}` : table.ttlStatus;
    const warn = table.ttlStatus === 'ENABLED' ? '' : ' (expired items are still filtered on read, but never deleted)';
    return `table ${table.name} ${table.status}, billing ${table.billingMode ?? 'unknown'}${items}, TTL ${ttl}${warn}`;
  }
  if (topology.slots) {
    const primaries = nodes.filter((n) => n.role === 'primary');
    const down = nodes.filter((n) => n.status !== 'up');
    return (
      `mode ${topology.mode}, ${primaries.length} primaries, ${nodes.length - primaries.length} replicas, ` +
      `${topology.slots.covered}/16384 slots covered in ${topology.slots.ranges} ranges` +
      (down.length ? `; down: ${down.map((n) => n.address).join(', ')}` : '')
    );
  }
  const members = nodes.filter((n) => n.role !== 'config-endpoint');
  if (discovery || members.every((n) => n.role === 'node')) {
    const source = discovery
      ? `auto-discovery on ${discovery.endpoint}, config version ${discovery.version ?? 'none yet'}` +
        (discovery.ok ? '' : ' (last poll FAILED: serving the last good node list)')
      : 'static node list';
    const ejected = members.filter((n) => n.status === 'ejected').map((n) => n.address);
    const down = members.filter((n) => n.status === 'down').map((n) => n.address);
    const list = members.map((n) => `${n.address}${n.share === undefined ? '' : ` (${percent(n.share)})`}`);
    return [
      source,
      `${members.length} node(s): ${list.join(', ')}`,
      ...(ejected.length ? [`ejected: ${ejected.join(', ')}`] : []),
      ...(down.length ? [`down: ${down.join(', ')}`] : []),
    ].join('; ');
  }
  const [self, ...others] = members;
  const seen = others.filter((n) => n.role === 'replica');
  const role = self?.role === 'primary' ? 'master' : (self?.role ?? 'unknown');
  const line = `mode ${topology.mode}, role ${role}, ${seen.length} replica(s)${seen.length ? `: ${seen.map(replicaText).join(', ')}` : ''}`;
  if (!replicas?.length) return line;
  return `${line}; reads from ${replicas.map((r) => `${r.address} (${r.status})`).join(', ')}`;
}

function replicaText(node: NodeDescription): string {
  return `${node.address} (${node.state ?? node.status})`;
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
