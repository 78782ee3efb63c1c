import {
  BackendError,
  type CacheStore,
  type InvalidationMode,
  type InvalidationOptions,
  type InvalidationSource,
  LarderError,
  type Payload,
  type StoreCapabilities,
  type StoreDescription,
  TickBatcher,
  TimeoutError,
  type TtlMs,
} from '@larder/core';
import type { Cluster, Redis } from 'ioredis';
import { larderBus } from './bus/bus-source';
import { groupBySlot } from './cluster-slots';
import { compareAndSet } from './compare-and-set';
import { type Connection, connect, isCluster } from './connect';
import { Corker } from './cork';
import { describeRedis } from './describe';
import { traceFailover } from './failover-trace';
import {
  type RedisClient,
  type RedisMode,
  type RedisStoreOptions,
  type ResolvedRedisOptions,
  resolveOptions,
} from './options';
import { ReadRouter } from './read-router';
import { COMPARE_AND_DELETE, INCREMENT, PERSIST_IF_EXISTS, runScript } from './scripts';
import { scrubError, scrubText, secretsOf } from './scrub';
import { trackingSource } from './tracking/tracking-source';

const DRIVER = 'redis';
const SCAN_COUNT = 1000;
/** Largest number of keys sent in one MGET by the get batcher. */
const MAX_BATCH_KEYS = 512;
// Reconnection attempts after which a client counts as down (see `unavailable`).
const FAILED_ATTEMPTS = 3;

type Value = string | Buffer;

// ioredis sends Buffers as-is; a plain Uint8Array is wrapped without copying.
function arg(payload: Payload): Value {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

function payloadOf(reply: Buffer | null): Payload | undefined {
  return reply === null ? undefined : reply;
}

/**
 * A text reply as the exact stored payload, or `undefined` when the text cannot be trusted to
 * be: invalid UTF-8 decodes to U+FFFD (the caller then reads the bytes), and a binary payload
 * (marker byte 0x00) that happens to be valid UTF-8 is given back as those bytes. Valid UTF-8
 * without U+FFFD re-encodes to exactly the bytes that were stored.
 */
function exact(text: string): Payload | undefined {
  if (text.includes('\uFFFD')) return undefined;
  return text.charCodeAt(0) === 0 ? Buffer.from(text) : text;
}

/** `SCAN MATCH` pattern for keys starting with `prefix` (glob characters escaped). */
export function scanPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** A `CacheStore` on ioredis: single node, primary + replicas, Sentinel or Cluster. */
export class RedisStore implements CacheStore {
  /** Always `redis`. */
  readonly driver = DRIVER;
  /** Store name on `larder.topology` (the manager sets the configured name). */
  storeName = DRIVER;
  /** What this store can do (read replicas only with `readFrom: 'replica'`). */
  readonly capabilities: StoreCapabilities;
  /** The topology this store talks to. */
  readonly mode: RedisMode;
  /** The client writes go to (a Cluster in Cluster mode). */
  readonly client: RedisClient;

  private readonly options: ResolvedRedisOptions;
  private readonly connection: Connection;
  private readonly cluster: boolean;
  private readonly router: ReadRouter;
  private readonly batchers = new Map<RedisClient, TickBatcher<Payload | undefined>>();
  private readonly corker = new Corker();
  private readonly corkers = new Map<RedisClient, Corker>();
  private readonly secrets: string[];
  private closed?: Promise<void>;

  constructor(options: RedisStoreOptions = {}) {
    this.options = resolveOptions(options);
    this.secrets = secretsOf(this.options);
    this.connection = connect(this.options);
    this.mode = this.connection.mode;
    this.client = this.connection.primary;
    if (this.mode === 'sentinel') traceFailover(this.client as Redis, () => this.storeName);
    this.cluster = isCluster(this.client);
    this.router = new ReadRouter(this.client, this.connection.replicas, this.options.readYourWritesMs);
    this.capabilities = {
      batch: true,
      atomicAdd: true,
      increment: true,
      locks: true,
      enumerate: true,
      clear: true,
      ttlPrecisionMs: 1,
      maxKeyBytes: this.options.maxKeyBytes,
      maxValueBytes: this.options.maxValueBytes,
      readReplicas: this.router.usesReplicas,
      inProcess: false,
      compareAndSet: true,
    };
  }

  /** Topology and health as data (see `describeRedis`); rejects when the primary does not answer. */
  describe(): Promise<StoreDescription> {
    return describeRedis(this.connection, (error) => this.fail('describe', error));
  }

  /** Invalidation for an L1 in front of this store: `tracking` (server-assisted, per node) or `bus` (Pub/Sub at `busUrl`). */
  invalidation(mode: InvalidationMode, options: InvalidationOptions): InvalidationSource | undefined {
    if (mode === 'tracking') return trackingSource(this.connection, options);
    return mode === 'bus' && options.busUrl !== undefined ? larderBus(options) : undefined;
  }

  /** The read router (exposed for tests and diagnostics). */
  get reads(): ReadRouter {
    return this.router;
  }

  /** Returns the exact stored payload (text, or bytes when it is not plain UTF-8), or `undefined` when absent. */
  get(key: string): Promise<Payload | undefined> {
    const client = this.router.clientFor(key);
    const down = this.unavailable(client, 'get');
    if (down) return Promise.reject(down);
    const started = Date.now();
    const reply = this.readOne(client, key);
    if (client === this.client) return reply.catch((error) => this.fail('get', error));
    return reply.catch((error) => this.onPrimary('get', started, error, () => this.readOne(this.client, key)));
  }

  /** SET with PX when a TTL is given. */
  async set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    this.before('set', key);
    try {
      const c = this.cmd(this.client);
      if (ttlMs === undefined) await c.set(key, arg(payload));
      else await c.set(key, arg(payload), 'PX', ttlMs);
      await this.durable(key);
    } catch (error) {
      this.fail('set', error);
    }
  }

  /** DEL; true if the key existed. */
  async delete(key: string): Promise<boolean> {
    this.before('delete', key);
    try {
      const removed = await this.cmd(this.client).del(key);
      await this.durable(key);
      return removed > 0;
    } catch (error) {
      this.fail('delete', error);
    }
  }

  /** MGET (one per slot in Cluster), aligned with `keys`. */
  async getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    if (keys.length === 0) return [];
    const client = this.router.clientForAll(keys);
    this.check(client, 'getMany');
    const read = (c: RedisClient) => this.readMany(c, keys as string[]);
    const started = Date.now();
    try {
      return await read(client);
    } catch (error) {
      if (client === this.client) this.fail('getMany', error);
      return this.onPrimary('getMany', started, error, () => read(this.client));
    }
  }

  /** SET PX for every entry in one pipeline (MSET without a TTL); per slot in Cluster. */
  async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    if (entries.length === 0) return;
    this.check(this.client, 'setMany');
    this.router.wroteMany(entries.map(([key]) => key));
    try {
      if (this.cluster) {
        const groups = groupBySlot(entries.map(([key]) => key));
        await Promise.all(
          [...groups.values()].map((indexes) =>
            this.setGroup(
              indexes.map((i) => entries[i]!),
              ttlMs,
            ),
          ),
        );
      } else {
        await this.setGroup(entries, ttlMs);
      }
      if (this.options.durableWrites) await this.durable(entries[0]![0]);
    } catch (error) {
      this.fail('setMany', error);
    }
  }

  /** UNLINK (per slot in Cluster); returns how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    this.check(this.client, 'deleteMany');
    this.router.wroteMany(keys);
    try {
      const removed = await this.unlink(keys as string[]);
      if (this.options.durableWrites) await this.durable(keys[0]!);
      return removed;
    } catch (error) {
      this.fail('deleteMany', error);
    }
  }

  /** EXISTS. */
  async has(key: string): Promise<boolean> {
    const client = this.router.clientFor(key);
    this.check(client, 'has');
    const exists = async (c: RedisClient) => (await this.cmd(c).exists(key)) === 1;
    const started = Date.now();
    try {
      return await exists(client);
    } catch (error) {
      if (client === this.client) this.fail('has', error);
      return this.onPrimary('has', started, error, () => exists(this.client));
    }
  }

  /** SET NX PX; true if stored. */
  async add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    this.before('add', key);
    try {
      const c = this.cmd(this.client);
      const reply =
        ttlMs === undefined ? await c.set(key, arg(payload), 'NX') : await c.set(key, arg(payload), 'PX', ttlMs, 'NX');
      if (reply === 'OK') await this.durable(key);
      return reply === 'OK';
    } catch (error) {
      this.fail('add', error);
    }
  }

  /** INCRBY in Lua; a created key gets `ttlMs` atomically, an existing key keeps its expiry. */
  async increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    this.before('increment', key);
    try {
      const value = await runScript(this.cmd(this.client), INCREMENT, key, [
        String(delta),
        ttlMs === undefined ? '' : ttlMs,
      ]);
      await this.durable(key);
      return Number(value);
    } catch (error) {
      this.fail('increment', error);
    }
  }

  /** GETDEL (Redis >= 6.2). */
  async pull(key: string): Promise<Payload | undefined> {
    this.before('pull', key);
    try {
      const value = await this.cmd(this.client).getdelBuffer(key);
      if (value !== null) await this.durable(key);
      return payloadOf(value);
    } catch (error) {
      this.fail('pull', error);
    }
  }

  /** PEXPIRE (PERSIST when `ttlMs` is undefined); false if the key is absent. */
  async touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    this.before('touch', key);
    try {
      const reply =
        ttlMs === undefined
          ? await runScript(this.cmd(this.client), PERSIST_IF_EXISTS, key, [])
          : await this.cmd(this.client).pexpire(key, ttlMs);
      return reply === 1;
    } catch (error) {
      this.fail('touch', error);
    }
  }

  /** Owner-checked DEL in Lua; true if deleted. */
  async compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    this.before('compareAndDelete', key);
    try {
      return (await runScript(this.cmd(this.client), COMPARE_AND_DELETE, key, [arg(expected)])) === 1;
    } catch (error) {
      this.fail('compareAndDelete', error);
    }
  }

  /** SET if the stored value is `expected` (`undefined` = absent), in one Lua script; true if written. */
  async compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    this.before('compareAndSet', key);
    try {
      const want = expected === undefined ? undefined : arg(expected);
      const written = await compareAndSet(this.cmd(this.client), key, want, arg(payload), ttlMs);
      if (written) await this.durable(key);
      return written;
    } catch (error) {
      this.fail('compareAndSet', error);
    }
  }

  /** SCAN MATCH `prefix*` on the primary (every primary in Cluster); each key once. */
  async *keys(prefix: string): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const node of await this.masters('keys')) {
      let cursor = '0';
      do {
        let reply: [string, string[]];
        try {
          reply = await node.scan(cursor, 'MATCH', scanPattern(prefix), 'COUNT', SCAN_COUNT);
        } catch (error) {
          this.fail('keys', error);
        }
        cursor = reply[0];
        for (const key of reply[1]) {
          if (seen.has(key)) continue;
          seen.add(key);
          yield key;
        }
      } while (cursor !== '0');
    }
  }

  /** SCAN + UNLINK in batches under `prefix` on every primary; never FLUSHDB. */
  async clear(prefix: string): Promise<void> {
    this.router.wroteAll();
    const pattern = scanPattern(prefix);
    try {
      for (const node of await this.masters('clear')) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
          cursor = next;
          if (keys.length > 0) await this.unlink(keys);
        } while (cursor !== '0');
      }
    } catch (error) {
      this.fail('clear', error);
    }
  }

  /** Quits the clients this store created (an injected client stays open). */
  close(): Promise<void> {
    this.closed ??= Promise.all(
      this.connection.owned.map(async (client) => {
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }),
    ).then(() => undefined);
    return this.closed;
  }

  // The client's commands, joined into one socket write per event-loop turn (`coalesceWrites`).
  private cmd(client: RedisClient): Redis {
    if (this.options.coalesceWrites && !this.cluster) {
      let corker = client === this.client ? this.corker : this.corkers.get(client);
      if (!corker) {
        corker = new Corker();
        this.corkers.set(client, corker);
      }
      corker.cork(client as Redis);
    }
    return client as Redis;
  }

  // Gets of one tick share an MGET; a lone get while the connection is idle goes out at once.
  private batcher(client: RedisClient): TickBatcher<Payload | undefined> {
    let batcher = this.batchers.get(client);
    if (!batcher) {
      batcher = new TickBatcher({
        readOne: (key) => this.fetchOne(client, key),
        readMany: (keys) => this.readMany(client, keys),
        maxBatchSize: MAX_BATCH_KEYS,
        sendAloneWhenIdle: true,
        // MGET answers repeated keys; skipping the duplicate check keeps 64 in flight as fast as before.
        dedupe: false,
      });
      this.batchers.set(client, batcher);
    }
    return batcher;
  }

  private readOne(client: RedisClient, key: string): Promise<Payload | undefined> {
    return this.options.batchGets ? this.batcher(client).load(key) : this.fetchOne(client, key);
  }

  // GET as text (cheaper to decode than bytes), or as bytes with `binaryReplies`.
  private fetchOne(client: RedisClient, key: string): Promise<Payload | undefined> {
    if (this.options.binaryReplies) return this.cmd(client).getBuffer(key).then(payloadOf);
    return this.cmd(client)
      .get(key)
      .then((text) => (text === null ? undefined : (exact(text) ?? this.cmd(client).getBuffer(key).then(payloadOf))));
  }

  // MGET (per slot in Cluster), as text with the same exactness check as `fetchOne`.
  private async readMany(client: RedisClient, keys: string[]): Promise<(Payload | undefined)[]> {
    const binary = this.options.binaryReplies;
    const c = this.cmd(client);
    const many = (list: string[]): Promise<(string | Buffer | null)[]> => (binary ? c.mgetBuffer(list) : c.mget(list));
    let replies: (string | Buffer | null)[];
    if (!this.cluster || keys.length === 1) {
      replies = keys.length === 1 ? [await (binary ? c.getBuffer(keys[0]!) : c.get(keys[0]!))] : await many(keys);
    } else {
      const groups = groupBySlot(keys);
      if (groups.size === 1) replies = await many(keys);
      else {
        replies = new Array(keys.length);
        await Promise.all(
          [...groups.values()].map(async (indexes) => {
            const values =
              indexes.length === 1
                ? [await (binary ? c.getBuffer(keys[indexes[0]!]!) : c.get(keys[indexes[0]!]!))]
                : await many(indexes.map((i) => keys[i]!));
            for (let j = 0; j < indexes.length; j++) replies[indexes[j]!] = values[j] ?? null;
          }),
        );
      }
    }
    const out: (Payload | undefined)[] = new Array(keys.length);
    const refetch: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const reply = replies[i];
      if (reply === null || reply === undefined) out[i] = undefined;
      else if (typeof reply !== 'string') out[i] = reply;
      else {
        const payload = exact(reply);
        if (payload === undefined) refetch.push(i);
        else out[i] = payload;
      }
    }
    if (refetch.length > 0) {
      await Promise.all(
        refetch.map(async (i) => {
          out[i] = payloadOf(await c.getBuffer(keys[i]!));
        }),
      );
    }
    return out;
  }

  // A replica that failed fast (killed, closing) is retried once on the primary; one that took half
  // the timeout or more (timed out, half-open) is not: the retry would run the call past its timeout.
  private async onPrimary<T>(op: string, started: number, replicaError: unknown, read: () => Promise<T>): Promise<T> {
    if (Date.now() - started >= this.options.commandTimeoutMs / 2) this.fail(op, replicaError);
    this.check(this.client, op);
    try {
      return await read();
    } catch (error) {
      this.fail(op, error);
    }
  }

  private async setGroup(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    const c = this.cmd(this.client);
    if (ttlMs === undefined) {
      const args: Value[] = [];
      for (const [key, payload] of entries) args.push(key, arg(payload));
      await c.mset(...(args as [string, Value]));
      return;
    }
    if (entries.length === 1) {
      const [key, payload] = entries[0]!;
      await c.set(key, arg(payload), 'PX', ttlMs);
      return;
    }
    const pipeline = c.pipeline();
    for (const [key, payload] of entries) pipeline.set(key, arg(payload), 'PX', ttlMs);
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  }

  private async unlink(keys: string[]): Promise<number> {
    const c = this.cmd(this.client);
    if (!this.cluster) return c.unlink(...keys);
    const groups = groupBySlot(keys);
    const counts = await Promise.all([...groups.values()].map((indexes) => c.unlink(...indexes.map((i) => keys[i]!))));
    return counts.reduce((a, b) => a + b, 0);
  }

  // Every primary: the Cluster's masters (after its slots are known), else the primary client.
  private async masters(op: string): Promise<Redis[]> {
    if (!this.cluster) {
      this.check(this.client, op);
      return [this.client as Redis];
    }
    const cluster = this.client as Cluster;
    try {
      if (cluster.status !== 'ready') await cluster.ping();
    } catch (error) {
      this.fail(op, error);
    }
    return cluster.nodes('master');
  }

  // WAIT until `durableWrites.replicas` replicas have every write of this connection so far.
  private async durable(key: string): Promise<void> {
    const durable = this.options.durableWrites;
    if (!durable) return;
    let acked: number;
    if (this.cluster) {
      // WAIT has no key: pipeline it behind a keyed no-op so it reaches the node owning `key`.
      const results = await (this.client as Cluster)
        .pipeline()
        .exists(key)
        .wait(durable.replicas, durable.timeoutMs)
        .exec();
      acked = Number(results?.[1]?.[1] ?? 0);
    } else {
      acked = await this.cmd(this.client).wait(durable.replicas, durable.timeoutMs);
    }
    if (acked < durable.replicas) {
      throw new BackendError(
        `redis write of '${key}' reached ${acked} of ${durable.replicas} replicas within ${durable.timeoutMs}ms (it is on the primary)`,
        DRIVER,
        { code: 'E_NOT_DURABLE' },
      );
    }
  }

  private before(op: string, key: string): void {
    this.check(this.client, op);
    this.router.wrote(key);
  }

  private check(client: RedisClient, op: string): void {
    const down = this.unavailable(client, op);
    if (down) throw down;
  }

  // A client whose reconnection already failed twice fails calls at once instead of queueing them
  // until its next attempt. A first reconnect (a blip, a Sentinel switch) still queues: the calls
  // go out when it succeeds, or fail when it does not (maxRetriesPerRequest 0), within ~100 ms.
  private unavailable(client: RedisClient, op: string): BackendError | undefined {
    if (this.closed) return new BackendError(`redis ${op} failed: the store is closed`, DRIVER);
    if (
      client.status === 'reconnecting' &&
      !isCluster(client) &&
      ((client as unknown as { retryAttempts?: number }).retryAttempts ?? FAILED_ATTEMPTS) >= FAILED_ATTEMPTS
    ) {
      return new BackendError(`redis ${op} failed: not connected to Redis (reconnecting)`, DRIVER);
    }
    return undefined;
  }

  private fail(op: string, error: unknown): never {
    if (error instanceof LarderError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (message === 'Command timed out') throw new TimeoutError(op, DRIVER, this.options.commandTimeoutMs);
    // The client's error carries the failed command's arguments (AUTH's password): wrap a scrubbed copy.
    throw new BackendError(`redis ${op} failed: ${scrubText(message, this.secrets)}`, DRIVER, {
      cause: scrubError(error, this.secrets),
    });
  }
}

/** Creates a Redis store; clients connect in the background (commands wait at most `connectTimeoutMs`). */
export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options);
}
