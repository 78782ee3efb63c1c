import type tls from 'node:tls';
import { ConfigError, type Ttl } from '@larder/core';
import { type CommonStoreOptions, formatHostPort, parseHostPort, parseTtl } from '@larder/core/driver';
import { DEFAULT_PORT } from './env';
import type { ConnectionOptions, MemjsServerLike } from './node-connection';
import { checkRules, OPTION_NAMES, type RuleField } from './rules';

/** Options of `createMemcachedStore`, and of a `memcached`/`elasticache` store in a manager config (`MemcachedDriverConfig`). */
export interface MemcachedStoreOptions extends CommonStoreOptions {
  /** Static node list, `host:port` each (port defaults to 11211). @default ['127.0.0.1:11211'] when no configEndpoint */
  servers?: string[];
  /** ElastiCache configuration endpoint `host:port`; turns auto-discovery on (and wins over `servers`). */
  configEndpoint?: string;
  /** Discovery poll interval, ms or a duration. @default '60s' */
  discoveryInterval?: Ttl;
  /** SASL PLAIN user name (binary protocol). */
  username?: string;
  /** SASL PLAIN password. */
  password?: string;
  /** TLS to every node and to the configuration endpoint: `true` or `tls.connect` options (ca, cert, servername...). @default false */
  tls?: boolean | tls.ConnectionOptions;
  /** Bound of each request from the call (connect and SASL handshake included), ms or a duration. @default '1s' */
  timeout?: Ttl;
  /** Extra attempts of an idempotent operation (get, set, delete, touch and their batches) after a reset or closed connection (never after a timeout). @default 1 */
  retries?: number;
  /** Consecutive transport failures that eject a node from the ring. @default 2 */
  ejectAfterFailures?: number;
  /** Longest wait between background probes of an ejected node (probes start 100 ms after the ejection and double), ms or a duration. @default '5s' */
  retryEjectedAfter?: Ttl;
  /** When the config endpoint does not speak `config get cluster` (or fails at start), use it as the only node, like django-elasticache's IGNORE_CLUSTER_ERRORS. @default false */
  ignoreClusterErrors?: boolean;
  /** Largest payload in bytes; keep it below the server's item size (`-I`, 1 MiB by default) minus item overhead. @default 1 MiB − 1 KiB */
  maxValueBytes?: number;
  /** Discovery attempts per poll before the poll counts as failed (the last good node list stays). @default 3 */
  discoveryRetries?: number;
  /**
   * Builds the memjs `Server` of a node (an injected client). `createDefault` builds larder's own
   * (memjs's Server with TLS support and its own reader), to wrap it, e.g. to count socket writes.
   */
  serverFactory?: (
    node: ConnectionOptions,
    createDefault: (node: ConnectionOptions) => MemjsServerLike,
  ) => MemjsServerLike;
}

/** A `host:port` address. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** Options after validation, in ms. */
export interface ResolvedOptions {
  servers: NodeAddress[];
  configEndpoint: NodeAddress | undefined;
  discoveryIntervalMs: number;
  username: string | undefined;
  password: string | undefined;
  tls: tls.ConnectionOptions | undefined;
  timeoutMs: number;
  retries: number;
  ejectAfterFailures: number;
  retryEjectedAfterMs: number;
  ignoreClusterErrors: boolean;
  maxValueBytes: number;
  discoveryRetries: number;
  serverFactory: MemcachedStoreOptions['serverFactory'];
}

/** Memcached's default item size (`-I 1m`). */
export const DEFAULT_ITEM_SIZE = 1024 * 1024;
/** Room left for the item header, key and CAS inside an item. */
export const ITEM_OVERHEAD = 1024;

/** Validates options once, at construction; errors name the offending option. */
export function resolveOptions(options: MemcachedStoreOptions): ResolvedOptions {
  // The same rules as on MEMCACHED_* variables (env.ts), naming the options.
  checkRules(options, {
    names: OPTION_NAMES,
    error: (message, field: RuleField) => new ConfigError(`memcached: ${message}`, OPTION_NAMES[field]),
  });
  const configEndpoint = options.configEndpoint ? parseAddress(options.configEndpoint, 'configEndpoint') : undefined;
  const serverList = options.servers ?? (configEndpoint ? [] : ['127.0.0.1:11211']);
  if (!Array.isArray(serverList)) throw new ConfigError('memcached: servers must be an array of host:port', 'servers');
  const servers = serverList.map((server) => parseAddress(server, 'servers'));
  if (!configEndpoint && servers.length === 0)
    throw new ConfigError('memcached: give servers or a configEndpoint', 'servers');
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_ITEM_SIZE - ITEM_OVERHEAD;
  return {
    servers,
    configEndpoint,
    discoveryIntervalMs: duration(options.discoveryInterval ?? '60s', 'discoveryInterval'),
    username: options.username,
    password: options.password,
    tls: options.tls === true ? {} : options.tls ? options.tls : undefined,
    timeoutMs: duration(options.timeout ?? '1s', 'timeout'),
    retries: count(options.retries ?? 1, 'retries', 0),
    ejectAfterFailures: count(options.ejectAfterFailures ?? 2, 'ejectAfterFailures', 1),
    retryEjectedAfterMs: duration(options.retryEjectedAfter ?? '5s', 'retryEjectedAfter'),
    ignoreClusterErrors: options.ignoreClusterErrors ?? false,
    maxValueBytes: count(maxValueBytes, 'maxValueBytes', 1),
    discoveryRetries: count(options.discoveryRetries ?? 3, 'discoveryRetries', 1),
    serverFactory: options.serverFactory,
  };
}

/** Parses `host:port` (port optional, default 11211; IPv6 as `[::1]:11211`). */
export function parseAddress(text: string, option: string): NodeAddress {
  const address = parseHostPort(String(text), DEFAULT_PORT);
  if (!address) throw new ConfigError(`memcached: invalid ${option} entry '${text}' (expected host:port)`, option);
  return address;
}

/** `host:port` as the ring and logs name a node. */
export function formatAddress(address: NodeAddress): string {
  return formatHostPort(address);
}

function duration(value: Ttl, option: string): number {
  try {
    return parseTtl(value);
  } catch {
    throw new ConfigError(`memcached: invalid ${option} '${String(value)}'`, option);
  }
}

function count(value: number, option: string, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`memcached: ${option} must be an integer >= ${min}`, option);
  return value;
}
