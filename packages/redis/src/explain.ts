import { formatHostPort } from '@larder/core/driver';
import type { ResolvedRedisOptions } from './options';

/** Where the store connects and which variable names it, for the words of a failure. */
export interface RedisTarget {
  /** `Redis at 10.0.0.5:6379`, `the Sentinel primary 'mymaster'`, `the Redis Cluster`. */
  what: string;
  /** The variable holding the addresses: `REDIS_URL`, `REDIS_SENTINELS`, `REDIS_CLUSTER_NODES`. */
  variable: string;
}

/** The store's target, from its resolved options. */
export function redisTarget(o: ResolvedRedisOptions): RedisTarget {
  if (o.mode === 'sentinel') {
    return { what: `the Sentinel primary '${o.source.sentinelName ?? 'mymaster'}'`, variable: 'REDIS_SENTINELS' };
  }
  if (o.mode === 'cluster') return { what: 'the Redis Cluster', variable: 'REDIS_CLUSTER_NODES' };
  if (o.mode === 'client' || !o.primary)
    return { what: 'Redis (the client given to the store)', variable: 'REDIS_URL' };
  return { what: `Redis at ${formatHostPort(o.primary)}`, variable: 'REDIS_URL' };
}

type ErrorFields = { message?: unknown; code?: unknown; address?: unknown; port?: unknown; hostname?: unknown };

/**
 * The cause of a Redis failure in words, with what to check, or undefined when the error says
 * enough. Replies (WRONGPASS, NOAUTH, ...) and socket codes (ECONNREFUSED, ...) are what an
 * operator can act on; ioredis' own words for a queued command failing ("Reached the max retries
 * per request limit") are not, so the caller passes the connection's last error instead.
 */
export function explainRedisError(error: unknown, target: RedisTarget): string | undefined {
  const e = (error ?? {}) as ErrorFields;
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const at =
    typeof e.address === 'string' && typeof e.port === 'number'
      ? formatHostPort({ host: e.address, port: e.port })
      : undefined;
  const where = at ? `Redis at ${at}` : target.what;
  if (message.startsWith('WRONGPASS')) {
    return `${target.what} refused the user name or password (WRONGPASS): check the user and password in REDIS_URL`;
  }
  if (message.startsWith('NOAUTH')) {
    return `${target.what} requires a password and none was given (NOAUTH): put it in REDIS_URL as redis://:<password>@host:port`;
  }
  if (message.startsWith('NOPERM')) {
    return `the Redis user may not run this command (NOPERM): check the user's ACL (ACL GETUSER) on ${target.what}`;
  }
  if (message.startsWith('LOADING')) return `${target.what} is loading its data set into memory (LOADING): wait for it`;
  if (message.startsWith('MASTERDOWN')) {
    return `${target.what} is a replica that lost its primary (MASTERDOWN): check the primary and replication`;
  }
  if (message.startsWith('OOM'))
    return `${target.what} is out of memory (OOM, maxmemory reached): check maxmemory and its eviction policy`;
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing is listening at ${at ?? target.what} (connection refused): is Redis running there? Check the host and port in ${target.variable}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host ${typeof e.hostname === 'string' ? `'${e.hostname}' ` : ''}was not found (DNS ${code}): check the host name in ${target.variable}`;
    case 'ETIMEDOUT':
      return `connecting to ${where} timed out (ETIMEDOUT): is the host reachable from here (firewall, security group)?`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${where} closed the connection (${code}): redis:// against a TLS port (use rediss://), or the server at maxclients?`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached (${code}): check the network path and the host in ${target.variable}`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the TLS certificate of ${where} is not trusted (${code}): give its CA with REDIS_TLS_CA_FILE`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the TLS certificate of ${where} does not name that host (${code}): connect by the name on the certificate`;
  }
  if (/ECONNREFUSED/.test(message))
    return `nothing is listening at ${target.what} (connection refused): is Redis running there? Check ${target.variable}`;
  return undefined;
}

/** True for ioredis' error of a command failed because its connection was (or went) down before it was sent. */
export function isConnectionLost(error: unknown): boolean {
  const e = (error ?? {}) as { name?: unknown; message?: unknown };
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    e.message === 'Connection is closed.' ||
    (typeof e.message === 'string' && e.message.startsWith('Reached the max retries per request limit'))
  );
}

// The last connection error of each client this store created (cleared when it is ready again):
// the cause of commands that failed only because the connection was down.
const lastErrors = new WeakMap<object, unknown>();

/** Keeps the client's last connection error for `lastConnectionError`; also keeps ioredis from printing it as unhandled. */
export function watchConnectionErrors<T extends { on(event: string, listener: (arg?: unknown) => void): unknown }>(
  client: T,
): T {
  client.on('error', (error) => lastErrors.set(client, error));
  client.on('ready', () => lastErrors.delete(client));
  return client;
}

/** The client's connection error since it was last ready, if any. */
export function lastConnectionError(client: object): unknown {
  return lastErrors.get(client);
}
