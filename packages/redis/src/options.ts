import type { ConnectionOptions } from 'node:tls';
import { ConfigError, type Ttl } from '@larder/core';
import { type CommonStoreOptions, checkUrlUserinfo, type HostPort, parseTtl, redactText } from '@larder/core/driver';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { checkTopology, OPTION_NAMES, type TopologyField } from './topology-rules';

/** A ready ioredis client (single node / Sentinel) or Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Options of `createRedisStore`, and of a `redis` store in a manager config (`RedisDriverConfig`;
 * the facade options are the Cache's there). The cross-field rules are those of `REDIS_*`.
 */
export interface RedisStoreOptions extends CommonStoreOptions {
  /** Primary URL, `redis://` or `rediss://` (TLS), with optional user, password and `/db`. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Read replica URLs (e.g. the ElastiCache reader endpoint); credentials and TLS default to the primary's. */
  replicaUrls?: string[];
  /** Where reads go; `'replica'` keeps read-your-writes for this process's own writes. @default 'primary' */
  readFrom?: 'primary' | 'replica';
  /** Sentinel nodes; turns Sentinel mode on. */
  sentinels?: HostPort[];
  /** Sentinel master group name. @default 'mymaster' */
  sentinelName?: string;
  /** Password of the Sentinels themselves (the data nodes use `password` / the URL's). */
  sentinelPassword?: string;
  /** ACL user of the Sentinels. */
  sentinelUsername?: string;
  /** Cluster seed nodes; turns Cluster mode on. */
  clusterNodes?: HostPort[];
  /** A ready client (Redis or Cluster) to use instead of creating one; `close()` leaves it open. */
  client?: RedisClient;
  /** Ready replica clients for reads (with `client`); `close()` leaves them open. */
  replicaClients?: RedisClient[];
  /** ACL user name (overrides the URL's). */
  username?: string;
  /** Password (overrides the URL's). */
  password?: string;
  /** TLS: `true` or Node TLS options (`ca`, `cert`, `key`, `servername`, `rejectUnauthorized`...). `rediss://` and `REDIS_TLS_CA_FILE` (`{ ca }`) turn it on. @default false */
  tls?: boolean | ConnectionOptions;
  /** After this process writes or deletes a key, reads of that key go to the primary for this long (replica reads only; `REDIS_READ_YOUR_WRITES`). @default 2000 */
  readYourWritesMs?: number | Ttl;
  /** Coalesce `get` calls issued in the same tick into one `MGET` (per slot in Cluster). @default true */
  batchGets?: boolean;
  /** Read values as bytes (`GET`/`MGET` Buffer replies). Off, values are read as text and only payloads that are not valid UTF-8 are read again as bytes: faster for JSON, one extra read for raw binary values. @default false */
  binaryReplies?: boolean;
  /** ioredis `enableAutoPipelining` on the clients this store creates (always on in Cluster). @default false */
  autoPipelining?: boolean;
  /** Join the commands sent to one connection in one event-loop turn into one socket write (a command to an idle connection at once; while others await replies, cork until `setImmediate`; not in Cluster). @default true */
  coalesceWrites?: boolean;
  /** Per-command timeout in ms; a connection silent this long while a command waits is reopened. @default 2000 */
  commandTimeoutMs?: number;
  /** Connection timeout in ms (ioredis `connectTimeout`). @default 2000 */
  connectTimeoutMs?: number;
  /** Longest key in bytes. @default 65536 */
  maxKeyBytes?: number;
  /** Largest payload in bytes (Redis `proto-max-bulk-len`). @default 536870912 */
  maxValueBytes?: number;
  /** Waits (Redis `WAIT`) until `replicas` replicas acknowledged each write, or rejects after `timeoutMs`. */
  durableWrites?: { replicas: number; timeoutMs: number };
  /** Extra ioredis options for every client this store creates (overridden by the options above). */
  redisOptions?: RedisOptions;
  /** Extra ioredis Cluster options (Cluster mode). */
  clusterOptions?: ClusterOptions;
}

/** Which topology the store talks to. */
export type RedisMode = 'single' | 'replicas' | 'sentinel' | 'cluster' | 'client';

/** Connection details of one node, parsed from a URL. */
export interface NodeAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls: boolean;
}

/** Options after defaults and validation. */
export interface ResolvedRedisOptions {
  mode: RedisMode;
  primary?: NodeAddress;
  replicas: NodeAddress[];
  readFrom: 'primary' | 'replica';
  readYourWritesMs: number;
  batchGets: boolean;
  binaryReplies: boolean;
  autoPipelining: boolean;
  coalesceWrites: boolean;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  tls?: ConnectionOptions;
  durableWrites?: { replicas: number; timeoutMs: number };
  source: RedisStoreOptions;
}

/** Default read-your-writes window: well above the replication lag of a healthy replica (ms), below a user's patience. */
export const DEFAULT_READ_YOUR_WRITES_MS = 2000;
/** Default per-command timeout. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** Default connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
/** Default key limit: Redis allows 512 MiB, but keys ride along every command. */
export const DEFAULT_MAX_KEY_BYTES = 64 * 1024;
/** Redis's default `proto-max-bulk-len`. */
export const DEFAULT_MAX_VALUE_BYTES = 512 * 1024 * 1024;

/** Replaces the password in every URL of `text` with `***`, by parsing (core's `redactText`). */
export const redact: (text: string) => string = redactText;

/** Parses `redis://[user[:password]@]host[:port][/db]` (or `rediss://`); errors never show the password. */
export function parseRedisUrl(url: string, variable = 'url'): NodeAddress {
  // The same check as REDIS_URL's: a userinfo with an unencoded '/' or '@' is refused unseen.
  checkUrlUserinfo(url, variable);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`Invalid Redis URL in ${variable}: '${redact(url)}' (expected redis://host:port)`, variable);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(
      `Invalid Redis URL in ${variable}: '${redact(url)}' (the scheme must be redis:// or rediss://)`,
      variable,
    );
  }
  const address: NodeAddress = {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === 'rediss:',
  };
  if (parsed.username) address.username = decodeURIComponent(parsed.username);
  if (parsed.password) address.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.replace(/^\//, '');
  if (db) {
    if (!/^\d+$/.test(db)) throw new ConfigError(`Invalid Redis database in ${variable}: '/${db}'`, variable);
    address.db = Number(db);
  }
  return address;
}

/** How resolveOptions names a field and builds its errors (env.ts has the variables' twin). */
const CODE_ENTRANCE = {
  names: OPTION_NAMES,
  invalid: (field: TopologyField, value: string, allowed: string) =>
    new ConfigError(`Invalid ${OPTION_NAMES[field]}='${value}': expected ${allowed}`, OPTION_NAMES[field]),
  error: (message: string, field: TopologyField) => new ConfigError(message, OPTION_NAMES[field]),
};

/** The read-your-writes window in ms: 0 turns it off; a bad value is a `ConfigError`, as `REDIS_READ_YOUR_WRITES`'s. */
function readYourWrites(value: RedisStoreOptions['readYourWritesMs']): number {
  if (value === undefined) return DEFAULT_READ_YOUR_WRITES_MS;
  if (value === 0) return 0;
  try {
    return parseTtl(value);
  } catch {
    throw new ConfigError(
      `Invalid readYourWritesMs='${String(value)}': expected ms or a duration such as '2s'`,
      'readYourWritesMs',
    );
  }
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`Invalid redis option ${name}: ${String(value)} (expected a positive integer)`, name);
  }
  return value;
}

/** Validates options once and applies defaults. */
export function resolveOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  // The same rules as on REDIS_* variables (env.ts), naming the options.
  checkTopology(options, CODE_ENTRANCE);
  const readFrom = options.readFrom ?? 'primary';
  let mode: RedisMode;
  if (options.client) mode = 'client';
  else if (options.clusterNodes?.length) mode = 'cluster';
  else if (options.sentinels?.length) mode = 'sentinel';
  else if (options.replicaUrls?.length) mode = 'replicas';
  else mode = 'single';

  const fromUrl = options.url ? parseRedisUrl(options.url) : undefined;
  const primary: NodeAddress = { ...(fromUrl ?? { host: '127.0.0.1', port: 6379, tls: false }) };
  if (options.username !== undefined) primary.username = options.username;
  if (options.password !== undefined) primary.password = options.password;
  const replicas = (options.replicaUrls ?? []).map((url, i) => {
    const replica = parseRedisUrl(url, `replicaUrls[${i}]`);
    replica.username ??= primary.username;
    replica.password ??= primary.password;
    return replica;
  });

  let tls: ConnectionOptions | undefined;
  if (options.tls === true) tls = {};
  else if (options.tls && typeof options.tls === 'object') tls = options.tls;
  if (tls) {
    primary.tls = true;
    for (const replica of replicas) replica.tls = true;
  }

  const readYourWritesMs = readYourWrites(options.readYourWritesMs);
  const durable = options.durableWrites;
  const commandTimeoutMs = positiveInt(options.commandTimeoutMs, 'commandTimeoutMs', DEFAULT_COMMAND_TIMEOUT_MS);
  if (durable) {
    positiveInt(durable.replicas, 'durableWrites.replicas', 1);
    positiveInt(durable.timeoutMs, 'durableWrites.timeoutMs', 1);
    // WAIT sends nothing back until its timeout: at or past the command timeout it would be
    // taken for a dead connection (timed out and the socket dropped), not reported as E_NOT_DURABLE.
    if (durable.timeoutMs >= commandTimeoutMs) {
      throw new ConfigError(
        `Invalid redis option durableWrites.timeoutMs: ${durable.timeoutMs} (must be below commandTimeoutMs, ${commandTimeoutMs})`,
        'durableWrites.timeoutMs',
      );
    }
  }
  return {
    mode,
    primary,
    replicas,
    readFrom,
    readYourWritesMs,
    batchGets: options.batchGets ?? true,
    binaryReplies: options.binaryReplies ?? false,
    autoPipelining: options.autoPipelining ?? false,
    coalesceWrites: options.coalesceWrites ?? true,
    commandTimeoutMs,
    connectTimeoutMs: positiveInt(options.connectTimeoutMs, 'connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS),
    maxKeyBytes: positiveInt(options.maxKeyBytes, 'maxKeyBytes', DEFAULT_MAX_KEY_BYTES),
    maxValueBytes: positiveInt(options.maxValueBytes, 'maxValueBytes', DEFAULT_MAX_VALUE_BYTES),
    tls,
    durableWrites: durable,
    source: options,
  };
}
