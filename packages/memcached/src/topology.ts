import type { EventEmitter } from 'node:events';
import { BackendError } from '@larder/core';
import { Opcode } from './binary-protocol';
import { HashRing } from './hash-ring';
import { assertMemjsInternals, LarderServer } from './memjs-internals';
import { type ConnectionOptions, NodeConnection } from './node-connection';
import { NodeHealth } from './node-health';
import { NodeProbes } from './node-probes';
import type { NodeAddress, ResolvedOptions } from './options';

const DRIVER = 'memcached';
const PLACEMENT_MEMO = 10_000;

/** One memcached node and its connection. */
export interface Node {
  /** Ring id: `host:port` as configured or as discovered (DNS name). */
  id: string;
  address: NodeAddress;
  connection: NodeConnection;
}

/**
 * The nodes in use, the ketama ring over the healthy ones, and ejection: failures are counted
 * per node, a node failing repeatedly leaves the ring (never the last one), and ejected nodes are
 * probed in the background and put back on their first answer. Emits `nodeEjected` and
 * `nodeReadmitted` (node id) on `events`.
 */
export class Topology {
  private readonly nodes = new Map<string, Node>();
  private ring = new HashRing([]);
  /** The ring over every node in use, ejected ones included: where each key lives (its home). */
  private homes = new HashRing([]);
  /** Memo of memcached key -> node for the current ring (hot keys skip the MD5); cleared on every ring change. */
  private placement = new Map<string, Node>();
  private readonly health: NodeHealth;
  private readonly probes: NodeProbes;
  private closed = false;
  /** A `serverFactory` built a server that is not larder's own (`LarderServer`, wrapped in place or not). */
  private foreignServers = false;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly events: EventEmitter,
  ) {
    this.health = new NodeHealth(options.ejectAfterFailures);
    this.probes = new NodeProbes(options.retryEjectedAfterMs);
    // Larder's own connections are built on memjs internals: an unfit memjs fails here, at start-up.
    if (!options.serverFactory) assertMemjsInternals();
  }

  /** True while every server in use is larder's own, which keeps a deadline per request (a factory's may not). */
  get ownServersOnly(): boolean {
    return !this.foreignServers;
  }

  /** Ids (`host:port`) of the nodes in use, ejected ones included. */
  ids(): string[] {
    return [...this.nodes.keys()];
  }

  /** Ids of the nodes currently ejected. */
  ejected(): string[] {
    return this.health.ejected();
  }

  /** Every node in use with its address, whether it is ejected, and its share of the ring (0 when ejected). */
  snapshot(): { id: string; address: NodeAddress; ejected: boolean; share: number }[] {
    const shares = this.ring.shares();
    return [...this.nodes.values()].map(({ id, address }) => ({
      id,
      address,
      ejected: this.health.isEjected(id),
      share: shares.get(id) ?? 0,
    }));
  }

  /** Whether the node answers a NOOP within the request timeout (describe: a refused node is down, whatever the ring says). */
  async answers(id: string): Promise<boolean> {
    const node = this.nodes.get(id);
    if (!node) return false;
    try {
      await node.connection.request({ opcode: Opcode.NOOP });
      return true;
    } catch {
      return false;
    }
  }

  /** Replaces the node list: new nodes connect, gone (or moved) ones are closed. */
  setNodes(list: { id: string; address: NodeAddress }[]): void {
    if (this.closed) return;
    const next = new Map(list.map((node) => [node.id, node.address]));
    for (const [id, node] of this.nodes) {
      const address = next.get(id);
      if (address && sameAddress(node.address, address)) continue;
      this.nodes.delete(id);
      this.health.forget(id);
      this.probes.stop(id);
      node.connection.close();
    }
    for (const { id, address } of list) {
      if (this.nodes.has(id)) continue;
      const connection = new NodeConnection(id, this.createServer(address));
      this.nodes.set(id, { id, address, connection });
    }
    this.rebuildRing();
  }

  /** The key's node on the current ring; throws a BackendError when there is none. */
  place(mkey: string): Node {
    const memo = this.placement.get(mkey);
    if (memo) return memo;
    const id = this.ring.get(mkey);
    const node = id === undefined ? undefined : this.nodes.get(id);
    if (!node) {
      const why = this.closed ? 'the store is closed' : 'no memcached node is available (none known)';
      throw new BackendError(`memcached: ${why}`, DRIVER);
    }
    if (this.placement.size >= PLACEMENT_MEMO) this.placement.clear();
    this.placement.set(mkey, node);
    return node;
  }

  /**
   * The key's node for a write: its home node, or a `BackendError` while that node is ejected. A
   * write is never sent to another node: processes that still reach the home node (their own
   * ejection state differs: a timeout under load ejects in one process only) would keep reading
   * the value there, and the re-routed one would resurface later as stale. Reads are re-routed
   * (a miss), writes fail until the node answers again.
   */
  placeWrite(mkey: string): Node {
    const home = this.homes.get(mkey);
    if (home !== undefined && this.health.isEjected(home)) {
      throw new BackendError(
        `memcached: node ${home} is ejected; writes to its keys fail until it answers again (sent elsewhere they would hide from processes that still reach it)`,
        DRIVER,
      );
    }
    return this.place(mkey);
  }

  /** The memoized node of a memcached key, if placed on the current ring already. */
  memoized(mkey: string): Node | undefined {
    return this.placement.get(mkey);
  }

  /** Records a successful answer from the node. */
  success(node: Node): void {
    this.health.success(node.id);
  }

  /**
   * Records a transport failure; returns true if the node is out of the ring now, by this failure
   * or an earlier one (a request routed to it just before it was ejected fails after): its keys
   * route elsewhere, so the request can be sent again through the ring.
   */
  failure(node: Node): boolean {
    if (!this.health.failure(node.id, this.ring.size <= 1)) return this.health.isEjected(node.id);
    this.rebuildRing();
    this.events.emit('nodeEjected', node.id);
    this.probes.start(
      node.id,
      () => node.connection.request({ opcode: Opcode.NOOP }),
      () => this.readmit(node.id),
    );
    return true;
  }

  /** Stops the probes and closes every connection. */
  close(): void {
    this.closed = true;
    this.probes.stopAll();
    for (const node of this.nodes.values()) node.connection.close();
    this.nodes.clear();
    this.rebuildRing();
  }

  private readmit(id: string): void {
    if (this.closed || !this.nodes.has(id) || !this.health.readmit(id)) return;
    this.rebuildRing();
    this.events.emit('nodeReadmitted', id);
  }

  private rebuildRing(): void {
    let healthy = [...this.nodes.keys()].filter((id) => !this.health.isEjected(id));
    // The live nodes left the cluster and only ejected ones remain: use them rather than none.
    if (healthy.length === 0 && this.nodes.size > 0) {
      for (const id of this.nodes.keys()) {
        this.probes.stop(id);
        this.health.readmit(id);
      }
      healthy = [...this.nodes.keys()];
    }
    this.ring = new HashRing(healthy);
    this.homes = healthy.length === this.nodes.size ? this.ring : new HashRing(this.nodes.keys());
    this.placement = new Map();
  }

  private createServer(address: NodeAddress) {
    const settings = {
      host: address.host,
      port: address.port,
      username: this.options.username,
      password: this.options.password,
      tls: this.options.tls,
      timeoutMs: this.options.timeoutMs,
    };
    const createDefault = (node: ConnectionOptions) => {
      assertMemjsInternals();
      return new LarderServer(node);
    };
    const factory = this.options.serverFactory;
    if (!factory) return createDefault(settings);
    const server = factory(settings, createDefault);
    if (!(server instanceof LarderServer)) this.foreignServers = true;
    return server;
  }
}

function sameAddress(a: NodeAddress, b: NodeAddress): boolean {
  return a.host === b.host && a.port === b.port;
}
