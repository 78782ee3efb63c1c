import { EventEmitter } from 'node:events';
import { BackendError, type StoreDescription, ValueTooLargeError } from '@larder/core';
import type {
  CacheStore,
  Payload,
  RateLimitReply,
  RateLimitRequest,
  StoreCapabilities,
  TtlMs,
} from '@larder/core/driver';
import {
  type BinaryResponse,
  byteSize,
  casOf,
  Opcode,
  type Request,
  Status,
  storageExtras,
  touchExtras,
} from './binary-protocol';
import { CasMemo } from './cas-memo';
import { compareAndSet } from './compare-and-set';
import { incrementCounter } from './counters';
import { describeMemcached } from './describe';
import { DiscoveryPoller, nodeAddress, type TopologyEvent } from './discovery/poller';
import { GetBatcher } from './get-batch';
import { toMemcachedKey } from './keys';
import { formatAddress, type MemcachedStoreOptions, type ResolvedOptions, resolveOptions } from './options';
import { MemcachedRateLimits } from './rate-limit';
import { Requests } from './requests';
import { secretsOf } from './scrub';
import { Topology } from './topology';
import { traceTopology } from './topology-trace';
import { toExpiration } from './ttl';

const DRIVER = 'memcached';
/** Longest larder key accepted; longer memcached keys are hashed, so this only bounds memory. */
const MAX_KEY_BYTES = 65_536;
const PULL_ATTEMPTS = 5;

/**
 * A memcached `CacheStore` over memjs connections (one per node), keys placed by a ketama ring,
 * nodes from a static list or ElastiCache auto-discovery. Events on `events`: `topology`,
 * `discoveryError`, `nodeEjected`, `nodeReadmitted`.
 */
export class MemcachedStore implements CacheStore {
  /** Driver name used in errors. */
  readonly driver = DRIVER;
  /** What memcached can do through this driver. */
  readonly capabilities: StoreCapabilities;
  /** Telemetry: `topology`, `discoveryError`, `nodeEjected`, `nodeReadmitted` (never `error`). */
  readonly events = new EventEmitter();
  /** Store name on `larder.topology` (the manager sets the configured name). */
  storeName = DRIVER;

  private readonly options: ResolvedOptions;
  private readonly topology: Topology;
  private poller: DiscoveryPoller | undefined;
  private readonly requests: Requests;
  private readonly gets: GetBatcher;
  /** CAS and value of recent `get` answers, for one-round-trip `compareAndSet` (see cas-memo.ts). */
  private readonly casMemo = new CasMemo();
  private rateLimits?: MemcachedRateLimits;

  constructor(options: MemcachedStoreOptions) {
    this.options = resolveOptions(options);
    this.topology = new Topology(this.options, this.events);
    traceTopology(this.events, () => this.storeName);
    this.requests = new Requests(this.topology, this.options, secretsOf(this.options));
    this.gets = new GetBatcher(this.topology, this.requests, this.casMemo);
    // A key may live on another node now: forget every memoized CAS.
    for (const event of ['topology', 'nodeEjected', 'nodeReadmitted'])
      this.events.on(event, () => this.casMemo.clear());
    const topology = this.topology;
    const deadlineMs = 2 * (this.options.retries + 1) * this.options.timeoutMs;
    this.capabilities = {
      atomicAdd: true,
      ttlPrecisionMs: 1000,
      maxKeyBytes: MAX_KEY_BYTES,
      maxValueBytes: this.options.maxValueBytes,
      inProcess: false,
      // Every request has its own deadline (`timeout`, kept by the node connection) and is resent
      // at most `retries` times after a reset, never after a timeout; a call that fails is at most
      // two requests in a row (a CAS read and its write): it settles within this bound, so the
      // facade arms no timer of its own (docs/architecture.md, "Timeouts"). Only larder's own
      // server keeps that deadline (memjs-internals.ts): once a `serverFactory` built another kind,
      // there is no bound (read when a Cache binds the store, after its first servers are built).
      get deadlineMs() {
        return topology.ownServersOnly ? deadlineMs : undefined;
      },
    };
    if (!this.options.configEndpoint) {
      this.topology.setNodes(this.options.servers.map((address) => ({ id: formatAddress(address), address })));
    }
  }

  /** Runs the first discovery when a configEndpoint is set (rejects with ConfigError/BackendError). */
  async start(): Promise<this> {
    const endpoint = this.options.configEndpoint;
    if (!endpoint || this.poller) return this;
    const poller = new DiscoveryPoller(endpoint, {
      intervalMs: this.options.discoveryIntervalMs,
      retries: this.options.discoveryRetries,
      timeoutMs: this.options.timeoutMs,
      tls: this.options.tls,
      ignoreClusterErrors: this.options.ignoreClusterErrors,
    });
    poller.on('topology', (event: TopologyEvent) => {
      this.topology.setNodes(
        event.nodes.map((node) => ({ id: `${node.host}:${node.port}`, address: nodeAddress(node) })),
      );
      this.events.emit('topology', event);
    });
    poller.on('discoveryError', (error: Error) => this.events.emit('discoveryError', error));
    this.poller = poller;
    await poller.start();
    return this;
  }

  /** The first node in use, `host:port` (traces name it as `server.address`; none before discovery found one). */
  get address(): string | undefined {
    return this.topology.ids()[0];
  }

  /** Nodes with ring shares and their state (one NOOP each), ejection, and the discovery state, as data. */
  describe(): Promise<StoreDescription> {
    return describeMemcached(this.topology, this.poller, this.options.configEndpoint);
  }

  /** Ids (`host:port`) of the nodes in use, ejected ones included. */
  nodeIds(): string[] {
    return this.topology.ids();
  }

  /** Id of the node `key` goes to now (ejected nodes skipped), or `undefined` when none is available. */
  nodeFor(key: string): string | undefined {
    try {
      return this.topology.place(toMemcachedKey(key)).id;
    } catch {
      return undefined;
    }
  }

  /** Ids of the nodes currently ejected after repeated failures. */
  ejectedNodes(): string[] {
    return this.topology.ejected();
  }

  /** Polls the configuration endpoint now (no-op with a static list). */
  async refreshTopology(): Promise<void> {
    await this.poller?.poll();
  }

  /** Returns the payload (as bytes), or `undefined` when absent or expired. Gets of one tick share one request per node. */
  get(key: string): Promise<Payload | undefined> {
    try {
      return this.gets.get(toMemcachedKey(key), 0);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns payloads aligned with `keys`: one quiet-get request (GETKQ… + NOOP) per node. */
  getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    return this.gets.getMany(keys);
  }

  /** Stores the payload, replacing any previous value. */
  async set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    const mkey = toMemcachedKey(key);
    this.casMemo.drop(mkey);
    const response = await this.requests.send('set', mkey, this.storage(Opcode.SET, key, mkey, payload, ttlMs), true);
    if (response.header.status !== Status.OK) throw this.requests.statusError('set', response);
  }

  /** Stores every entry with the same expiry: one pipelined quiet-set request (SETQ… + NOOP) per node. */
  async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    const requests = entries.map(([key, payload]) => {
      const mkey = toMemcachedKey(key);
      this.casMemo.drop(mkey);
      return this.storage(Opcode.SETQ, key, mkey, payload, ttlMs);
    });
    await this.requests.quietPerNode('setMany', requests, (answers) => {
      if (answers[0]) throw this.requests.statusError('setMany', answers[0]);
    });
  }

  /** Stores only if absent (memcached `add`); returns true if stored. */
  async add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    this.casMemo.drop(mkey);
    const response = await this.requests.send('add', mkey, this.storage(Opcode.ADD, key, mkey, payload, ttlMs), false);
    const { status } = response.header;
    if (status === Status.OK) return true;
    if (status === Status.KEY_EXISTS || status === Status.NOT_STORED) return false;
    throw this.requests.statusError('add', response);
  }

  /** Returns true if the key existed and was deleted. */
  async delete(key: string): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    this.casMemo.drop(mkey);
    const response = await this.requests.send('delete', mkey, { opcode: Opcode.DELETE, key: mkey }, true);
    return this.deleted('delete', response);
  }

  /** Deletes the keys with one quiet-delete request (DELETEQ… + NOOP) per node; returns how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const requests = keys.map((key) => {
      const mkey = toMemcachedKey(key);
      this.casMemo.drop(mkey);
      return { opcode: Opcode.DELETEQ, key: mkey };
    });
    let missing = 0;
    await this.requests.quietPerNode('deleteMany', requests, (answers) => {
      for (const answer of answers) {
        // Quiet deletes answer only failures; "not found" is the one we expect.
        if (answer.header.status === Status.KEY_NOT_FOUND) missing++;
        else throw this.requests.statusError('deleteMany', answer);
      }
    });
    return keys.length - missing;
  }

  /**
   * Adds `delta` (may be negative) to a counter stored as plain decimal text; a missing key
   * starts at 0 and gets `ttlMs`. See `incrementBig` for how; results beyond 2^53 are rounded
   * to the nearest JS number (use `incrementBig` for exact values).
   */
  async increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    if (!Number.isSafeInteger(delta)) {
      throw new BackendError(`memcached increment of '${key}': delta ${delta} is not a safe integer`, DRIVER);
    }
    return Number(await this.incrementBig(key, BigInt(delta), ttlMs));
  }

  /**
   * Exact signed counter arithmetic: one native INCR for a non-negative delta on a non-negative
   * counter, else an optimistic CAS read-modify-write (see counters.ts, also for the TTL rule).
   */
  incrementBig(key: string, delta: bigint, ttlMs: TtlMs): Promise<bigint> {
    this.forget(key);
    return incrementCounter(this.requests, key, delta, ttlMs);
  }

  /** Sets a new expiry (binary TOUCH); returns false if the key is absent. */
  async touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    this.casMemo.drop(mkey);
    const request = { opcode: Opcode.TOUCH, key: mkey, extras: touchExtras(toExpiration(ttlMs)) };
    const response = await this.requests.send('touch', mkey, request, true);
    return this.deleted('touch', response);
  }

  /** Deletes the key only if its payload equals `expected`: a get with CAS, then a delete with that CAS. */
  async compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    this.casMemo.drop(mkey);
    const current = await this.requests.send('compareAndDelete', mkey, { opcode: Opcode.GET, key: mkey }, true);
    if (current.header.status === Status.KEY_NOT_FOUND) return false;
    if (current.header.status !== Status.OK) throw this.requests.statusError('compareAndDelete', current);
    if (!current.val.equals(toBuffer(expected))) return false;
    return this.deleteIfUnchanged('compareAndDelete', mkey, current);
  }

  /**
   * Stores `payload` only if the stored payload equals `expected` (`undefined` = absent): ADD, or a SET
   * with the CAS token of this store's latest `get` of the key (one round trip), else GET + SET with its CAS.
   */
  async compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    const write = this.storage(Opcode.SET, key, mkey, payload, ttlMs);
    return compareAndSet(this.requests, this.topology, this.casMemo, mkey, expected, write);
  }

  /** Returns and deletes the payload: get with CAS + delete with CAS, so two pulls never both get it. */
  async pull(key: string): Promise<Payload | undefined> {
    const mkey = toMemcachedKey(key);
    this.casMemo.drop(mkey);
    for (let attempt = 0; attempt < PULL_ATTEMPTS; attempt++) {
      const current = await this.requests.send('pull', mkey, { opcode: Opcode.GET, key: mkey }, true);
      if (current.header.status === Status.KEY_NOT_FOUND) return undefined;
      if (current.header.status !== Status.OK) throw this.requests.statusError('pull', current);
      const response = await this.requests.send(
        'pull',
        mkey,
        { opcode: Opcode.DELETE, key: mkey, cas: casOf(current, `pull of '${key}'`) },
        false,
      );
      if (response.header.status === Status.OK) return current.val;
      // Someone else deleted it first: they pulled it.
      if (response.header.status === Status.KEY_NOT_FOUND) return undefined;
      if (response.header.status !== Status.KEY_EXISTS) throw this.requests.statusError('pull', response);
      // Rewritten in between: pull the new value.
    }
    throw new BackendError(`memcached pull of '${key}': the value kept changing`, DRIVER);
  }

  /** One rate-limit decision: the fixed window as one INCR with initial value and expiry (see rate-limit.ts). */
  rateLimit(key: string, request: RateLimitRequest): Promise<RateLimitReply> {
    this.rateLimits ??= new MemcachedRateLimits(this.requests);
    return this.rateLimits.decide(key, request);
  }

  /** Stops discovery and closes every connection. */
  async close(): Promise<void> {
    this.poller?.stop();
    this.topology.close();
    this.casMemo.clear();
  }

  /** Drops the memoized CAS of `key` (bad keys are left to the operation to reject). */
  private forget(key: string): void {
    try {
      this.casMemo.drop(toMemcachedKey(key));
    } catch {}
  }

  /** A SET/ADD/SETQ request; the payload is framed as it is (a string as UTF-8), after the size check. */
  private storage(opcode: number, key: string, mkey: string, payload: Payload, ttlMs: TtlMs): Request {
    const value = typeof payload === 'string' ? payload : toBuffer(payload);
    const size = byteSize(value);
    if (size > this.options.maxValueBytes) {
      throw new ValueTooLargeError(key, size, this.options.maxValueBytes, DRIVER);
    }
    return { opcode, key: mkey, extras: storageExtras(toExpiration(ttlMs)), value };
  }

  private async deleteIfUnchanged(op: string, mkey: string, current: BinaryResponse): Promise<boolean> {
    const response = await this.requests.send(
      op,
      mkey,
      { opcode: Opcode.DELETE, key: mkey, cas: casOf(current, `${op} of '${mkey}'`) },
      false,
    );
    const { status } = response.header;
    if (status === Status.OK) return true;
    if (status === Status.KEY_NOT_FOUND || status === Status.KEY_EXISTS) return false;
    throw this.requests.statusError(op, response);
  }

  private deleted(op: string, response: BinaryResponse): boolean {
    if (response.header.status === Status.OK) return true;
    if (response.header.status === Status.KEY_NOT_FOUND) return false;
    throw this.requests.statusError(op, response);
  }
}

function toBuffer(payload: Payload): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload);
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** Creates a memcached store and, with a configEndpoint, waits for the first discovery. */
export async function createMemcachedStore(options: MemcachedStoreOptions = {}): Promise<MemcachedStore> {
  return new MemcachedStore(options).start();
}
