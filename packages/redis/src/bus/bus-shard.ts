import { createHash } from 'node:crypto';
import { keySlot } from '../cluster-slots';

/** A Redis node's address as `CLUSTER SLOTS` gives it. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** Channel of the bus for one store prefix on a single node (instances of one app share it). */
export function busChannel(prefix: string): string {
  return `__larder:l1:${prefix}`;
}

/**
 * The hash tag that puts the bus of one store prefix on one shard of a Redis Cluster: its sharded
 * channel and its fleet's keys (leases, registry, acknowledgements) share a slot, so one connection
 * to that slot's master serves them all, and a barrier's `getMany` is one MGET. The prefix itself
 * when it can be a tag (readable in `PUBSUB SHARDCHANNELS`), else a digest of it.
 */
export function shardTag(prefix: string): string {
  return /^[^{}]+$/.test(prefix) ? prefix : createHash('sha1').update(prefix).digest('hex').slice(0, 16);
}

/** The bus's sharded channel for one store prefix on a Redis Cluster (SSUBSCRIBE / SPUBLISH). */
export function shardChannel(prefix: string): string {
  return `__larder:l1:{${shardTag(prefix)}}`;
}

/** A fleet key moved into the bus's slot on a Redis Cluster. */
export function shardKey(tag: string, key: string): string {
  return `{${tag}}${key}`;
}

/** What `CLUSTER SLOTS` says of a channel: the master serving its slot, and every node it lists. */
export interface SlotOwner {
  /** The master of the channel's slot (its address and node id), undefined while no node serves the slot. */
  master?: NodeAddress & { id: string };
  /** Every node of the reply (masters and replicas): where to ask again when the master is lost. */
  nodes: NodeAddress[];
}

type SlotRange = [number, number, ...[string | Buffer, number, (string | Buffer)?, ...unknown[]][]];

/**
 * Reads a `CLUSTER SLOTS` reply (Redis ≥ 4: each node is host, port, id) for the slot of `channel`;
 * a node listed without a host (`''` or `?`: Redis does not know its endpoint) is taken to be on `asked`'s host.
 */
export function slotOwner(reply: unknown, channel: string, asked: string): SlotOwner {
  const slot = keySlot(channel);
  const owner: SlotOwner = { nodes: [] };
  for (const range of reply as SlotRange[]) {
    const [from, to, ...nodes] = range;
    for (const [host, port, id] of nodes) {
      const named = String(host);
      const address = { host: named === '' || named === '?' ? asked : named, port: Number(port) };
      if (!owner.nodes.some((n) => n.host === address.host && n.port === address.port)) owner.nodes.push(address);
      if (slot >= from && slot <= to && nodes[0]?.[2] === id && id !== undefined)
        owner.master = { ...address, id: String(id) };
    }
  }
  return owner;
}
