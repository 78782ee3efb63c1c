import type { BackendError } from '@larder/core';
import type {
  CacheStore,
  InvalidationMode,
  InvalidationOptions,
  InvalidationSource,
  Payload,
  StoreCapabilities,
  TtlMs,
} from '@larder/core/driver';
import type { Cluster, Redis } from 'ioredis';
import { larderBus } from './bus/bus-source';
import { ClientCommands } from './client-commands';
import { compareAndSet } from './compare-and-set';
import { type Connection, closeConnection, connect } from './connect';
import { clientAddress, describeRedis, type RedisDescription } from './describe';
import { redisTarget } from './explain';
import { traceFailover } from './failover-trace';
import { type FailureContext, storeError, unavailableError } from './failures';
import { fleetMembers } from './fleet-members';
import { isCluster, sendText } from './ioredis-internals';
import {
  type RedisClient,
  type RedisMode,
  type RedisStoreOptions,
  type ResolvedRedisOptions,
  resolveOptions,
} from './options';
import { rateLimit } from './rate-limit';
import { ReadRouter } from './read-router';
import { arg, payloadOf } from './replies';
import { scanKeys, unlinkPrefix } from './scan';
import { COMPARE_AND_DELETE, INCREMENT, PERSIST_IF_EXISTS, runScript } from './scripts';
import { secretsOf } from './scrub';
import { redisCapabilities } from './store-capabilities';
import { tagOperations } from './tag-commands';
import { CommandTracking } from './tracking/command-tracking';
import { trackingSource } from './tracking/tracking-source';
import { setEntriesBySlot, unlinkKeys, waitForReplicas } from './write-commands';
import { WriteReports } from './write-reports';

const DRIVER = 'redis';
const settledVoid = (): void => undefined;

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
  private readonly commands: ClientCommands;
  private readonly secrets: string[];
  /** What a failure's words need: the target, the client whose connection errors explain it. */
  private readonly failures: FailureContext;
  private closed?: Promise<void>;
  /** Tracking on the command connection (NOLOOP), when an L1 asked for it: every write path reports its keys to it. */
  private commandTracking?: CommandTracking;
  /** How writes end: failures made the store's, this process's L1s told (write-reports.ts). */
  private readonly reports: WriteReports;
  private readonly failSet = (error: unknown): never => this.fail('set', error);
  private readonly failRateLimit = (error: unknown): never => this.fail('rateLimit', error);
  /** One rate-limit decision: one script on the key, on the server's clock (see rate-limit.ts); never in an L1. */
  readonly rateLimit: CacheStore['rateLimit'] = (key, request) =>
    rateLimit(this.commands.cmd(this.client), key, request, this.failRateLimit);
  /** Tags in one script each (tag-commands.ts); no getWithTags nor setTagged in Cluster, where the counters live on other slots. */
  readonly getWithTags?: CacheStore['getWithTags'];
  readonly setTagged?: CacheStore['setTagged'];
  readonly tagVersions?: CacheStore['tagVersions'];
  readonly bumpTags?: CacheStore['bumpTags'];

  constructor(options: RedisStoreOptions = {}) {
    this.options = resolveOptions(options);
    this.secrets = secretsOf(this.options);
    this.connection = connect(this.options);
    this.failures = {
      target: redisTarget(this.options),
      client: this.connection.primary,
      commandTimeoutMs: this.options.commandTimeoutMs,
      secrets: this.secrets,
    };
    this.reports = new WriteReports({
      tracking: () => this.commandTracking,
      durable: this.options.durableWrites ? (key) => this.waitForReplicas(key) : undefined,
      fail: (op, error) => this.fail(op, error),
    });
    this.mode = this.connection.mode;
    this.client = this.connection.primary;
    if (this.mode === 'sentinel') traceFailover(this.client as Redis, () => this.storeName);
    this.cluster = isCluster(this.client);
    this.router = new ReadRouter(this.client, this.connection.replicas, this.options.readYourWritesMs);
    this.commands = new ClientCommands(this.client, this.options, this.cluster, (error) => this.fail('get', error));
    this.capabilities = redisCapabilities(this.options, this.mode, this.cluster);
    const { client: primary, router, commands } = this;
    const tracked = () => this.commandTracking !== undefined;
    const fail = this.fail.bind(this);
    const [writing, settled] = [this.reports.writing.bind(this.reports), this.reports.settled.bind(this.reports)];
    const host = { primary, router, commands, startWrite: this.startWrite.bind(this), tracked, writing, settled, fail };
    // Tags (tag-commands.ts) and the L1 fleet's registry as a set (fleet-members.ts).
    const members = fleetMembers(() => this.commands.cmd(this.client) as Redis);
    Object.assign(this, tagOperations(host, this.cluster), members);
  }

  /** The primary (a Cluster's first startup node), `host:port` (traces name it as `server.address`). */
  get address(): string | undefined {
    return clientAddress(this.connection.primary);
  }

  /** Topology and health as data, and the ioredis internals not found (see `describeRedis`); rejects when the primary does not answer. */
  describe(): Promise<RedisDescription> {
    return describeRedis(this.connection, (error) => this.fail('describe', error));
  }

  /** Invalidation for an L1 in front of this store: `tracking` (server-assisted, per node) or `bus` (Pub/Sub at `busUrl`). */
  invalidation(mode: InvalidationMode, options: InvalidationOptions): InvalidationSource | undefined {
    if (mode === 'tracking') {
      const onCommands = this.trackingOnCommands(options.tracking === 'readers');
      return onCommands?.source(options) ?? trackingSource(this.connection, options);
    }
    return mode === 'bus' && options.busUrl !== undefined ? larderBus(options) : undefined;
  }

  // Reads and writes share one connection only without replica reads, Cluster or an injected client
  // (written through behind the store's back, unseen under NOLOOP); the first L1 picks `readers`.
  private trackingOnCommands(readers: boolean): CommandTracking | undefined {
    const c = this.connection;
    const shared = c.replicas.length === 0 && ['single', 'sentinel', 'replicas'].includes(c.mode);
    if (shared) this.commandTracking ??= new CommandTracking(this.client as Redis, readers);
    return this.commandTracking;
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
    // On the primary, errors are already the store's (ClientCommands' failGet).
    if (client === this.client) return this.commands.get(client, key);
    const started = Date.now();
    return this.commands
      .get(client, key)
      .catch((error) => this.onPrimary('get', started, error, () => this.commands.get(this.client, key)));
  }

  /** A payload's first bytes on the primary, whose connection tracking watches (an L1's check of a life extension). */
  head(key: string): Promise<Payload | undefined> {
    const down = this.unavailable(this.client, 'get');
    return down ? Promise.reject(down) : this.commands.head(key);
  }

  /** SET with PX when a TTL is given (promise steps, not an async function: one step from reply to settled). */
  set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    let reply: Promise<unknown>;
    try {
      this.startWrite('set', key);
      const c = this.commands.cmd(this.client);
      // Text goes out as it is (`sendText`: ioredis' own path copies and checks the arguments again).
      if (typeof payload === 'string')
        reply = sendText(c, 'set', ttlMs === undefined ? [key, payload] : [key, payload, 'PX', String(ttlMs)]);
      else reply = ttlMs === undefined ? c.set(key, arg(payload)) : c.set(key, arg(payload), 'PX', ttlMs);
    } catch (error) {
      // Refused before anything was sent: nothing to report to this process's L1s.
      return Promise.reject(error).then(settledVoid, this.failSet);
    }
    return this.reports.settled('set', key, reply, settledVoid);
  }

  /** DEL; true if the key existed. */
  async delete(key: string): Promise<boolean> {
    this.startWrite('delete', key);
    return this.reports.writing('delete', [key], async () => {
      const removed = await this.commands.cmd(this.client).del(key);
      await this.waitForReplicas(key);
      return removed > 0;
    });
  }

  /** MGET (one per slot in Cluster), aligned with `keys`. */
  getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    const client = this.router.clientForAll(keys);
    const down = this.unavailable(client, 'getMany');
    if (down) return Promise.reject(down);
    const read = (c: RedisClient) => this.commands.getMany(c, keys as string[]);
    // Promise steps, not an async function: no async layers on a read path.
    if (client === this.client) return read(client).catch((error) => this.fail('getMany', error));
    const started = Date.now();
    return read(client).catch((error) => this.onPrimary('getMany', started, error, () => read(this.client)));
  }

  /** SET PX for every entry in one pipeline (MSET without a TTL); per slot in Cluster. */
  async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    if (entries.length === 0) return;
    this.check(this.client, 'setMany');
    this.router.wroteMany(entries.map(([key]) => key));
    return this.reports.writing(
      'setMany',
      entries.map(([key]) => key),
      async () => {
        await setEntriesBySlot(this.commands.cmd(this.client), entries, ttlMs, this.cluster);
        if (this.options.durableWrites) await this.waitForReplicas(entries[0]![0]);
      },
    );
  }

  /** UNLINK (per slot in Cluster); returns how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    this.check(this.client, 'deleteMany');
    this.router.wroteMany(keys);
    return this.reports.writing('deleteMany', keys as string[], async () => {
      const removed = await unlinkKeys(this.commands.cmd(this.client), keys as string[], this.cluster);
      if (this.options.durableWrites) await this.waitForReplicas(keys[0]!);
      return removed;
    });
  }

  /** EXISTS (this store's own helper: `CacheStore` has no `has`, the facade reads through `get`). */
  async has(key: string): Promise<boolean> {
    const client = this.router.clientFor(key);
    this.check(client, 'has');
    const exists = async (c: RedisClient) => (await this.commands.cmd(c).exists(key)) === 1;
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
    this.startWrite('add', key);
    return this.reports.writing('add', [key], async () => {
      const c = this.commands.cmd(this.client);
      const reply =
        ttlMs === undefined ? await c.set(key, arg(payload), 'NX') : await c.set(key, arg(payload), 'PX', ttlMs, 'NX');
      if (reply === 'OK') await this.waitForReplicas(key);
      return reply === 'OK';
    });
  }

  /** INCRBY in Lua; a created key gets `ttlMs` atomically, an existing key keeps its expiry. */
  async increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    this.startWrite('increment', key);
    return this.reports.writing('increment', [key], async () => {
      const value = await runScript(this.commands.cmd(this.client), INCREMENT, key, [
        String(delta),
        ttlMs === undefined ? '' : ttlMs,
      ]);
      await this.waitForReplicas(key);
      return Number(value);
    });
  }

  /** GETDEL (Redis >= 6.2). */
  async pull(key: string): Promise<Payload | undefined> {
    this.startWrite('pull', key);
    return this.reports.writing('pull', [key], async () => {
      const value = await this.commands.cmd(this.client).getdelBuffer(key);
      if (value !== null) await this.waitForReplicas(key);
      return payloadOf(value);
    });
  }

  /** PEXPIRE (PERSIST when `ttlMs` is undefined); false if the key is absent. */
  async touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    this.startWrite('touch', key);
    return this.reports.writing('touch', [key], async () => {
      const reply =
        ttlMs === undefined
          ? await runScript(this.commands.cmd(this.client), PERSIST_IF_EXISTS, key, [])
          : await this.commands.cmd(this.client).pexpire(key, ttlMs);
      return reply === 1;
    });
  }

  /** Owner-checked DEL in Lua; true if deleted. */
  async compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    this.startWrite('compareAndDelete', key);
    return this.reports.writing('compareAndDelete', [key], async () => {
      return (await runScript(this.commands.cmd(this.client), COMPARE_AND_DELETE, key, [arg(expected)])) === 1;
    });
  }

  /** SET if the stored value is `expected` (`undefined` = absent), in one Lua script; true if written. */
  async compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    this.startWrite('compareAndSet', key);
    return this.reports.writing('compareAndSet', [key], async () => {
      const want = expected === undefined ? undefined : arg(expected);
      const written = await compareAndSet(this.commands.cmd(this.client), key, want, arg(payload), ttlMs);
      if (written) await this.waitForReplicas(key);
      return written;
    });
  }

  /** SCAN MATCH `prefix*` on the primary (every primary in Cluster); each key once. */
  async *keys(prefix: string): AsyncIterable<string> {
    yield* scanKeys(await this.masters('keys'), prefix, (error) => this.fail('keys', error));
  }

  /** SCAN + UNLINK in batches under `prefix` on every primary; never FLUSHDB. */
  async clear(prefix: string): Promise<void> {
    this.router.wroteAll();
    const unlink = async (keys: string[]) => {
      try {
        await unlinkKeys(this.commands.cmd(this.client), keys, this.cluster);
      } finally {
        this.commandTracking?.wrote(keys);
      }
    };
    try {
      await unlinkPrefix(await this.masters('clear'), prefix, unlink);
    } catch (error) {
      this.fail('clear', error);
    } finally {
      this.commandTracking?.cleared(prefix);
    }
  }

  /** Quits the clients this store created (an injected client stays open). */
  close(): Promise<void> {
    this.closed ??= closeConnection(this.connection);
    return this.closed;
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

  // Every primary: the Cluster's masters (after its slots are known), else the primary client.
  private async masters(op: string): Promise<Redis[]> {
    if (!this.cluster) {
      this.check(this.client, op);
      return [this.client as Redis];
    }
    const cluster = this.client as Cluster;
    if (cluster.status !== 'ready') await cluster.ping().catch((error: unknown) => this.fail(op, error));
    return cluster.nodes('master');
  }

  // With `durableWrites`, waits until enough replicas have the writes so far (see waitForReplicas).
  private async waitForReplicas(key: string): Promise<void> {
    const durable = this.options.durableWrites;
    if (durable) await waitForReplicas(this.client, () => this.commands.cmd(this.client), durable, key);
  }

  // Fails at once when the primary is down; tells the read router `key` was written (read-your-writes).
  private startWrite(op: string, key: string): void {
    this.check(this.client, op);
    this.router.wrote(key);
  }

  private check(client: RedisClient, op: string): void {
    const down = this.unavailable(client, op);
    if (down) throw down;
  }

  private unavailable(client: RedisClient, op: string): BackendError | undefined {
    return unavailableError(client, op, this.closed !== undefined, this.failures.target);
  }

  private fail(op: string, error: unknown): never {
    throw storeError(op, error, this.failures);
  }
}

/** Creates a Redis store; clients connect in the background (commands wait at most `connectTimeoutMs`). */
export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options);
}
