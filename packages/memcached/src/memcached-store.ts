import { EventEmitter } from 'node:events';
import {
  BackendError,
  type CacheStore,
  type Payload,
  type StoreCapabilities,
  TimeoutError,
  type TtlMs,
  ValueTooLargeError,
} from '@larder/core';
import {
  type BinaryResponse,
  byteSize,
  counterExtras,
  decodeCounter,
  MAX_COUNTER,
  Opcode,
  type Request,
  Status,
  statusText,
  storageExtras,
  touchExtras,
} from './binary-protocol';
import { DiscoveryPoller, nodeAddress, type TopologyEvent } from './discovery/poller';
import { looksHashed, toMemcachedKey } from './keys';
import { RequestTimeout } from './node-connection';
import { formatAddress, type MemcachedStoreOptions, type ResolvedOptions, resolveOptions } from './options';
import { matchAnswers } from './quiet-gets';
import { scrubError, scrubText, secretsOf } from './scrub';
import { type Node, Topology } from './topology';
import { toExpiration } from './ttl';

const DRIVER = 'memcached';
/** Longest larder key accepted; longer memcached keys are hashed, so this only bounds memory. */
const MAX_KEY_BYTES = 65_536;
const PULL_ATTEMPTS = 5;
const CAS_ATTEMPTS = 500;

/** Keys of one node in a getMany, with their positions in the caller's list. */
interface KeyGroup {
  keys: string[];
  indexes: number[];
}

interface PendingGet {
  waiters: { resolve: (payload: Payload | undefined) => void; reject: (error: unknown) => void }[];
  attempt: number;
}

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

  private readonly options: ResolvedOptions;
  private readonly topology: Topology;
  /** SASL credentials, scrubbed from every wrapped error. */
  private readonly secrets: string[];
  private poller: DiscoveryPoller | undefined;
  private getBatch: Map<Node, Map<string, PendingGet>> | undefined;

  constructor(options: MemcachedStoreOptions) {
    this.options = resolveOptions(options);
    this.topology = new Topology(this.options, this.events);
    this.secrets = secretsOf(this.options);
    this.capabilities = {
      batch: true,
      atomicAdd: true,
      increment: true,
      locks: true,
      enumerate: false,
      clear: false,
      ttlPrecisionMs: 1000,
      maxKeyBytes: MAX_KEY_BYTES,
      maxValueBytes: this.options.maxValueBytes,
      readReplicas: false,
      inProcess: false,
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
      return this.enqueueGet(toMemcachedKey(key), 0);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns payloads aligned with `keys`: one quiet-get request (GETKQ… + NOOP) per node. */
  async getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    const results = new Array<Payload | undefined>(keys.length).fill(undefined);
    const groups = new Map<Node, KeyGroup>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // The memo holds only memcached keys: a hit on a key not shaped like a hashed key means it is
      // a literal one (stored as it is), so skip the validation. A hashed-shaped key must be hashed.
      let mkey = key;
      let node = looksHashed(key) ? undefined : this.topology.memoized(key);
      if (!node) {
        mkey = toMemcachedKey(key);
        node = this.topology.place(mkey);
      }
      const group = groups.get(node);
      if (group) {
        group.keys.push(mkey);
        group.indexes.push(i);
      } else {
        groups.set(node, { keys: [mkey], indexes: [i] });
      }
    }
    const requests: Promise<void>[] = [];
    for (const [node, group] of groups) requests.push(this.getGroup(node, group, results));
    await Promise.all(requests);
    return results;
  }

  /** One node's share of a getMany: its hits land in `results` at the keys' positions. */
  private async getGroup(node: Node, group: KeyGroup, results: (Payload | undefined)[]): Promise<void> {
    let answers: BinaryResponse[];
    try {
      // Duplicate keys are sent twice (cheaper than a map per key); each gets its own answer.
      answers = await node.connection.quietGets(group.keys);
      this.topology.success(node);
    } catch {
      // Let the single-key path count the failure, retry and re-route.
      this.topology.failure(node);
      await Promise.all(
        group.keys.map(async (mkey, j) => {
          results[group.indexes[j]!] = await this.enqueueGet(mkey, 1);
        }),
      );
      return;
    }
    for (const answer of answers) if (answer.header.status !== Status.OK) throw this.statusError('getMany', answer);
    matchAnswers(group.keys, answers, (j, answer) => {
      results[group.indexes[j]!] = answer.val;
    });
  }

  /** Stores the payload, replacing any previous value. */
  async set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    const mkey = toMemcachedKey(key);
    const response = await this.send('set', mkey, this.storage(Opcode.SET, key, mkey, payload, ttlMs), true);
    if (response.header.status !== Status.OK) throw this.statusError('set', response);
  }

  /** Stores every entry with the same expiry: one pipelined quiet-set request (SETQ… + NOOP) per node. */
  async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    const requests = entries.map(([key, payload]) =>
      this.storage(Opcode.SETQ, key, toMemcachedKey(key), payload, ttlMs),
    );
    await this.quietPerNode('setMany', requests, (answers) => {
      if (answers[0]) throw this.statusError('setMany', answers[0]);
    });
  }

  /** Stores only if absent (memcached `add`); returns true if stored. */
  async add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    const response = await this.send('add', mkey, this.storage(Opcode.ADD, key, mkey, payload, ttlMs), false);
    const { status } = response.header;
    if (status === Status.OK) return true;
    if (status === Status.KEY_EXISTS || status === Status.NOT_STORED) return false;
    throw this.statusError('add', response);
  }

  /** Returns true if the key existed and was deleted. */
  async delete(key: string): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    const response = await this.send('delete', mkey, { opcode: Opcode.DELETE, key: mkey }, true);
    return this.deleted('delete', response);
  }

  /** Deletes the keys with one quiet-delete request (DELETEQ… + NOOP) per node; returns how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const requests = keys.map((key) => ({ opcode: Opcode.DELETEQ, key: toMemcachedKey(key) }));
    let missing = 0;
    await this.quietPerNode('deleteMany', requests, (answers) => {
      for (const answer of answers) {
        // Quiet deletes answer only failures; "not found" is the one we expect.
        if (answer.header.status === Status.KEY_NOT_FOUND) missing++;
        else throw this.statusError('deleteMany', answer);
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
   * Exact signed counter arithmetic. A non-negative delta on a non-negative counter is one
   * native binary INCR (atomic, 64-bit exact, keeps the item's expiry; memcached wraps above
   * 2^64 − 1). Memcached counters are unsigned and DECR stops at 0, so a negative delta, or any
   * delta on a negative counter, is an optimistic read-modify-write: get with CAS, then
   * set-with-CAS (or add for a missing key), retried on conflict — still atomic against every
   * other writer. Memcached cannot report an item's remaining TTL over the binary protocol, so
   * such a write gives the counter `ttlMs` (none = no expiry) instead of keeping its expiry.
   */
  async incrementBig(key: string, delta: bigint, ttlMs: TtlMs): Promise<bigint> {
    const magnitude = delta < 0n ? -delta : delta;
    if (magnitude > MAX_COUNTER)
      throw new BackendError(`memcached increment of '${key}': delta out of 64-bit range`, DRIVER);
    const mkey = toMemcachedKey(key);
    if (delta >= 0n) {
      // A missing key is created with `initial` (the delta is not applied to it), so initial = delta.
      const request = { opcode: Opcode.INCREMENT, key: mkey, extras: counterExtras(delta, delta, toExpiration(ttlMs)) };
      const response = await this.send('increment', mkey, request, false);
      if (response.header.status === Status.OK) return decodeCounter(response.val);
      if (response.header.status !== Status.NON_NUMERIC) throw this.statusError('increment', response);
    }
    return this.casIncrement(key, mkey, delta, ttlMs);
  }

  private async casIncrement(key: string, mkey: string, delta: bigint, ttlMs: TtlMs): Promise<bigint> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      if (attempt > 8) await new Promise((resolve) => setTimeout(resolve, Math.random() * attempt));
      const current = await this.send('increment', mkey, { opcode: Opcode.GET, key: mkey }, true);
      let next: bigint;
      let write: Request;
      if (current.header.status === Status.KEY_NOT_FOUND) {
        next = delta;
        write = {
          opcode: Opcode.ADD,
          key: mkey,
          extras: storageExtras(toExpiration(ttlMs)),
          value: String(next),
        };
      } else if (current.header.status === Status.OK) {
        const text = current.val.toString('latin1');
        if (!/^-?\d{1,20}$/.test(text)) {
          throw new BackendError(`memcached increment of '${key}': the stored value is not an integer`, DRIVER);
        }
        next = BigInt(text) + delta;
        if (next > MAX_COUNTER || next < -MAX_COUNTER) {
          throw new BackendError(`memcached increment of '${key}': result out of 64-bit range`, DRIVER);
        }
        write = {
          opcode: Opcode.SET,
          key: mkey,
          extras: storageExtras(toExpiration(ttlMs)),
          value: String(next),
          cas: current.header.cas,
        };
      } else {
        throw this.statusError('increment', current);
      }
      const response = await this.send('increment', mkey, write, false);
      const { status } = response.header;
      if (status === Status.OK) return next;
      if (status !== Status.KEY_EXISTS && status !== Status.NOT_STORED && status !== Status.KEY_NOT_FOUND) {
        throw this.statusError('increment', response);
      }
      // Someone wrote in between: read again.
    }
    throw new BackendError(
      `memcached increment of '${key}': too much contention (${CAS_ATTEMPTS} CAS attempts)`,
      DRIVER,
    );
  }

  /** Sets a new expiry (binary TOUCH); returns false if the key is absent. */
  async touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    const request = { opcode: Opcode.TOUCH, key: mkey, extras: touchExtras(toExpiration(ttlMs)) };
    const response = await this.send('touch', mkey, request, true);
    return this.deleted('touch', response);
  }

  /** Deletes the key only if its payload equals `expected`: a get with CAS, then a delete with that CAS. */
  async compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    const mkey = toMemcachedKey(key);
    const current = await this.send('compareAndDelete', mkey, { opcode: Opcode.GET, key: mkey }, true);
    if (current.header.status === Status.KEY_NOT_FOUND) return false;
    if (current.header.status !== Status.OK) throw this.statusError('compareAndDelete', current);
    if (!current.val.equals(toBuffer(expected))) return false;
    return this.deleteIfUnchanged('compareAndDelete', mkey, current);
  }

  /** Returns and deletes the payload: get with CAS + delete with CAS, so two pulls never both get it. */
  async pull(key: string): Promise<Payload | undefined> {
    const mkey = toMemcachedKey(key);
    for (let attempt = 0; attempt < PULL_ATTEMPTS; attempt++) {
      const current = await this.send('pull', mkey, { opcode: Opcode.GET, key: mkey }, true);
      if (current.header.status === Status.KEY_NOT_FOUND) return undefined;
      if (current.header.status !== Status.OK) throw this.statusError('pull', current);
      const response = await this.send(
        'pull',
        mkey,
        { opcode: Opcode.DELETE, key: mkey, cas: current.header.cas },
        false,
      );
      if (response.header.status === Status.OK) return current.val;
      // Someone else deleted it first: they pulled it.
      if (response.header.status === Status.KEY_NOT_FOUND) return undefined;
      if (response.header.status !== Status.KEY_EXISTS) throw this.statusError('pull', response);
      // Rewritten in between: pull the new value.
    }
    throw new BackendError(`memcached pull of '${key}': the value kept changing`, DRIVER);
  }

  /** Stops discovery and closes every connection. */
  async close(): Promise<void> {
    this.poller?.stop();
    this.topology.close();
  }

  // --- requests -----------------------------------------------------------------------------

  /** One request to the key's node; transport failures count against the node and idempotent ones are retried. */
  private async send(op: string, mkey: string, request: Request, idempotent: boolean): Promise<BinaryResponse> {
    for (let attempt = 0; ; attempt++) {
      const node = this.topology.place(mkey);
      try {
        const response = await node.connection.request(request);
        this.topology.success(node);
        return response;
      } catch (error) {
        const ejected = this.topology.failure(node);
        if (!idempotent || (attempt >= this.options.retries && !ejected)) throw this.transportError(op, node, error);
      }
    }
  }

  private enqueueGet(mkey: string, attempt: number): Promise<Payload | undefined> {
    const node = this.topology.place(mkey);
    return new Promise((resolve, reject) => {
      let batch = this.getBatch;
      if (!batch) {
        batch = new Map();
        this.getBatch = batch;
        // Flush after the current tick's microtasks: every get issued meanwhile shares the request.
        process.nextTick(() => this.flushGets());
      }
      let perNode = batch.get(node);
      if (!perNode) {
        perNode = new Map();
        batch.set(node, perNode);
      }
      const pending = perNode.get(mkey);
      if (pending) pending.waiters.push({ resolve, reject });
      else perNode.set(mkey, { waiters: [{ resolve, reject }], attempt });
    });
  }

  private flushGets(): void {
    const batch = this.getBatch;
    this.getBatch = undefined;
    if (!batch) return;
    for (const [node, pending] of batch) void this.runGets(node, pending);
  }

  private async runGets(node: Node, pending: Map<string, PendingGet>): Promise<void> {
    try {
      if (pending.size === 1) {
        const [mkey, entry] = pending.entries().next().value as [string, PendingGet];
        const response = await node.connection.request({ opcode: Opcode.GET, key: mkey });
        this.topology.success(node);
        const { status } = response.header;
        if (status === Status.OK) settle(entry, response.val);
        else if (status === Status.KEY_NOT_FOUND) settle(entry, undefined);
        else reject(entry, this.statusError('get', response));
        return;
      }
      const keys = [...pending.keys()];
      const entries = [...pending.values()];
      const answers = await node.connection.quietGets(keys);
      this.topology.success(node);
      const payloads = new Array<Payload | undefined>(keys.length).fill(undefined);
      const errors: (BackendError | undefined)[] = [];
      matchAnswers(keys, answers, (j, answer) => {
        if (answer.header.status === Status.OK) payloads[j] = answer.val;
        else errors[j] = this.statusError('get', answer);
      });
      // Quiet gets say nothing for a miss.
      for (let j = 0; j < entries.length; j++) {
        const error = errors[j];
        if (error) reject(entries[j]!, error);
        else settle(entries[j]!, payloads[j]);
      }
    } catch (error) {
      const ejected = this.topology.failure(node);
      for (const [mkey, entry] of pending) {
        if (entry.attempt < this.options.retries || ejected) {
          let retry: Promise<Payload | undefined>;
          try {
            retry = this.enqueueGet(mkey, entry.attempt + 1);
          } catch (routeError) {
            reject(entry, routeError);
            continue;
          }
          retry.then(
            (payload) => settle(entry, payload),
            (retryError) => reject(entry, retryError),
          );
        } else {
          reject(entry, this.transportError('get', node, error));
        }
      }
    }
  }

  /** Sends quiet requests grouped by node (one write each) and hands each node's failure answers to `check`. */
  private async quietPerNode(
    op: string,
    requests: Request[],
    check: (answers: BinaryResponse[]) => void,
  ): Promise<void> {
    const groups = new Map<Node, Request[]>();
    for (const request of requests) {
      const node = this.topology.place(String(request.key));
      const group = groups.get(node);
      if (group) group.push(request);
      else groups.set(node, [request]);
    }
    await Promise.all(
      [...groups].map(async ([node, group]) => {
        for (let attempt = 0; ; attempt++) {
          try {
            const answers = await node.connection.quiet(group);
            this.topology.success(node);
            check(answers);
            return;
          } catch (error) {
            if (error instanceof BackendError) throw error;
            const ejected = this.topology.failure(node);
            // The node's keys live elsewhere now: resend them through the ring.
            if (ejected) return this.quietPerNode(op, group, check);
            if (attempt >= this.options.retries) throw this.transportError(op, node, error);
          }
        }
      }),
    );
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
    const response = await this.send(op, mkey, { opcode: Opcode.DELETE, key: mkey, cas: current.header.cas }, false);
    const { status } = response.header;
    if (status === Status.OK) return true;
    if (status === Status.KEY_NOT_FOUND || status === Status.KEY_EXISTS) return false;
    throw this.statusError(op, response);
  }

  private deleted(op: string, response: BinaryResponse): boolean {
    if (response.header.status === Status.OK) return true;
    if (response.header.status === Status.KEY_NOT_FOUND) return false;
    throw this.statusError(op, response);
  }

  private statusError(op: string, response: BinaryResponse): BackendError {
    const text = statusText(response.header.status);
    const detail = scrubText(response.val.toString(), this.secrets);
    return new BackendError(`memcached ${op} failed: ${text}`, DRIVER, { cause: detail || text });
  }

  private transportError(op: string, node: Node, error: unknown): BackendError {
    if (error instanceof BackendError) return error;
    if (error instanceof RequestTimeout) return new TimeoutError(op, DRIVER, this.options.timeoutMs);
    // Wrap a scrubbed copy: the client's error (or its cause) may carry the SASL credentials.
    const cause = scrubError(error, this.secrets);
    return new BackendError(`memcached ${op} on ${node.id} failed: ${cause.message}`, DRIVER, { cause });
  }
}

function settle(entry: PendingGet, payload: Payload | undefined): void {
  for (const waiter of entry.waiters) waiter.resolve(payload);
}

function reject(entry: PendingGet, error: unknown): void {
  for (const waiter of entry.waiters) waiter.reject(error);
}

function toBuffer(payload: Payload): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload);
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** Creates a memcached store and, with a configEndpoint, waits for the first discovery. */
export async function createMemcachedStore(options: MemcachedStoreOptions = {}): Promise<MemcachedStore> {
  return new MemcachedStore(options).start();
}
