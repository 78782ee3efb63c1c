import { ConfigError } from './errors';
import { redactEnvValue } from './redact';
import type {
  CacheManagerConfig,
  DynamoDbDriverConfig,
  HostPort,
  MemcachedDriverConfig,
  MemoryDriverConfig,
  RedisDriverConfig,
  StoreConfig,
} from './store-config';
import { parseTtl } from './ttl';

/** An environment: `process.env` or any plain record of strings. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Options of `configFromEnv`. */
export interface ConfigFromEnvOptions {
  /**
   * Names of custom drivers the app registers with `extend()`. `CACHE_DRIVER`, `SESSION_DRIVER` and
   * `SESSION_STORE` may name them; each gets a store of that name (`{ driver: name }`).
   * Any other unknown name fails at start-up. @default []
   */
  drivers?: readonly string[];
}

/** Every environment variable `configFromEnv` reads (for `larder doctor` and docs/tests that list them). */
export const ENV_VARIABLES = [
  'CACHE_DRIVER',
  'CACHE_STORE',
  'CACHE_PREFIX',
  'CACHE_TTL',
  'SESSION_DRIVER',
  'SESSION_STORE',
  'REDIS_URL',
  'REDIS_REPLICA_URLS',
  'REDIS_READ_FROM',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_CLUSTER_NODES',
  'MEMCACHED_SERVERS',
  'MEMCACHED_CONFIG_ENDPOINT',
  'MEMCACHED_DISCOVERY_INTERVAL',
  'MEMCACHED_USERNAME',
  'MEMCACHED_PASSWORD',
  'MEMCACHED_TLS',
  'CACHE_TABLE',
  'SESSION_TABLE',
  'DYNAMODB_ENDPOINT',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
] as const;

/** Store names `configFromEnv` always produces. */
export const ENV_STORE_NAMES = ['memory', 'redis', 'memcached', 'dynamodb', 'dynamodb_sessions'] as const;

// `elasticache` is the memcached driver with auto-discovery: it selects the `memcached` store.
const STORE_ALIASES: Readonly<Record<string, string>> = { elasticache: 'memcached' };
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

/**
 * Builds a `CacheManagerConfig` from environment variables (DESIGN.md's table; Laravel's names
 * first). Every value is validated here, at start-up: a bad one throws `ConfigError` naming the
 * variable, its value (secrets redacted) and what is allowed. Empty variables count as unset.
 */
export function configFromEnv(env: Env = process.env, options: ConfigFromEnvOptions = {}): CacheManagerConfig {
  const read = reader(env);
  const customDrivers = [...(options.drivers ?? [])];

  const redis = redisConfig(read);
  const memcached = memcachedConfig(read);
  const region = read('AWS_REGION') ?? read('AWS_DEFAULT_REGION');
  const regionVariable = read('AWS_REGION') !== undefined ? 'AWS_REGION' : 'AWS_DEFAULT_REGION';
  if (region !== undefined && !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(region)) {
    throw invalid(regionVariable, region, "an AWS region such as 'eu-west-1'");
  }
  const endpoint = optionalUrl(read, 'DYNAMODB_ENDPOINT', ['http:', 'https:']);
  const dynamo = (table: string): DynamoDbDriverConfig =>
    compact({ driver: 'dynamodb' as const, table, endpoint, region });

  const stores: Record<string, StoreConfig> = {
    memory: { driver: 'memory' } satisfies MemoryDriverConfig,
    redis,
    memcached,
    dynamodb: dynamo(tableName(read, 'CACHE_TABLE', 'CacheTable')),
    dynamodb_sessions: dynamo(tableName(read, 'SESSION_TABLE', 'SessionTable')),
  };
  for (const name of customDrivers) stores[name] ??= { driver: name };
  const storeNames = [...Object.keys(stores), ...Object.keys(STORE_ALIASES)];

  const pickStore = (variable: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    const name = STORE_ALIASES[value] ?? value;
    if (!(name in stores)) {
      throw invalid(
        variable,
        value,
        `one of ${storeNames.join(', ')} (a custom driver must be listed in configFromEnv(env, { drivers: [...] }))`,
      );
    }
    return name;
  };

  const cacheDriver = read('CACHE_STORE') !== undefined ? 'CACHE_STORE' : 'CACHE_DRIVER';
  const defaultStore = pickStore(cacheDriver, read(cacheDriver)) ?? 'memory';
  const sessionDriver = read('SESSION_DRIVER');
  // Laravel: SESSION_DRIVER=dynamodb uses the sessions table, not the cache table.
  const sessionStore =
    pickStore('SESSION_STORE', read('SESSION_STORE')) ??
    (sessionDriver === 'dynamodb' ? 'dynamodb_sessions' : pickStore('SESSION_DRIVER', sessionDriver)) ??
    defaultStore;

  const config: CacheManagerConfig = { default: defaultStore, sessionStore, stores };
  const prefix = read('CACHE_PREFIX');
  if (prefix !== undefined) config.prefix = prefix;
  const ttl = optionalTtl(read, 'CACHE_TTL');
  if (ttl !== undefined) config.ttl = ttl;
  return config;
}

/** Types a manager config (an identity function, for editor help in config files). */
export function defineConfig<const T extends CacheManagerConfig>(config: T): T {
  return config;
}

type Read = (name: string) => string | undefined;

function reader(env: Env): Read {
  return (name) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
}

function invalid(variable: string, value: string, allowed: string): ConfigError {
  return new ConfigError(`Invalid ${variable}='${redactEnvValue(variable, value)}': expected ${allowed}`, variable);
}

function redisConfig(read: Read): RedisDriverConfig {
  const url = optionalUrl(read, 'REDIS_URL', ['redis:', 'rediss:']);
  const replicaUrls = list(read, 'REDIS_REPLICA_URLS')?.map((item) =>
    checkUrl('REDIS_REPLICA_URLS', item, ['redis:', 'rediss:']),
  );
  const readFrom = read('REDIS_READ_FROM');
  if (readFrom !== undefined && readFrom !== 'primary' && readFrom !== 'replica') {
    throw invalid('REDIS_READ_FROM', readFrom, "'primary' or 'replica'");
  }
  const sentinels = hostPorts(read, 'REDIS_SENTINELS', 26379);
  const sentinelName = read('REDIS_SENTINEL_NAME');
  const clusterNodes = hostPorts(read, 'REDIS_CLUSTER_NODES', 6379);
  if (sentinels && clusterNodes) {
    throw new ConfigError(
      'REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: choose Sentinel mode or Cluster mode',
      'REDIS_CLUSTER_NODES',
    );
  }
  if (replicaUrls && (sentinels || clusterNodes)) {
    throw new ConfigError(
      `REDIS_REPLICA_URLS cannot be combined with ${sentinels ? 'REDIS_SENTINELS' : 'REDIS_CLUSTER_NODES'}: replicas are discovered in that mode`,
      'REDIS_REPLICA_URLS',
    );
  }
  if (sentinelName !== undefined && !sentinels) {
    throw new ConfigError('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not', 'REDIS_SENTINEL_NAME');
  }
  if (readFrom === 'replica' && !replicaUrls && !sentinels && !clusterNodes) {
    throw new ConfigError(
      'REDIS_READ_FROM=replica needs REDIS_REPLICA_URLS, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
      'REDIS_READ_FROM',
    );
  }
  return compact({
    driver: 'redis' as const,
    url,
    replicaUrls,
    readFrom: readFrom as RedisDriverConfig['readFrom'],
    sentinels,
    sentinelName,
    clusterNodes,
  });
}

function memcachedConfig(read: Read): MemcachedDriverConfig {
  const servers = list(read, 'MEMCACHED_SERVERS')?.map((item) =>
    formatHostPort(parseHostPort('MEMCACHED_SERVERS', item, 11211)),
  );
  const endpoint = read('MEMCACHED_CONFIG_ENDPOINT');
  const configEndpoint =
    endpoint === undefined ? undefined : formatHostPort(parseHostPort('MEMCACHED_CONFIG_ENDPOINT', endpoint, 11211));
  const discoveryInterval = optionalTtl(read, 'MEMCACHED_DISCOVERY_INTERVAL');
  if (discoveryInterval !== undefined && configEndpoint === undefined) {
    throw new ConfigError(
      'MEMCACHED_DISCOVERY_INTERVAL is set but MEMCACHED_CONFIG_ENDPOINT is not',
      'MEMCACHED_DISCOVERY_INTERVAL',
    );
  }
  const username = read('MEMCACHED_USERNAME');
  const password = read('MEMCACHED_PASSWORD');
  if ((username === undefined) !== (password === undefined)) {
    const missing = username === undefined ? 'MEMCACHED_USERNAME' : 'MEMCACHED_PASSWORD';
    throw new ConfigError(`SASL needs both MEMCACHED_USERNAME and MEMCACHED_PASSWORD; ${missing} is not set`, missing);
  }
  const tlsWord = read('MEMCACHED_TLS');
  let tls: boolean | undefined;
  if (tlsWord !== undefined) {
    tls = BOOLEAN_WORDS[tlsWord.toLowerCase()];
    if (tls === undefined) throw invalid('MEMCACHED_TLS', tlsWord, 'true/false, 1/0, yes/no or on/off');
  }
  return compact({
    driver: 'memcached' as const,
    servers,
    configEndpoint,
    discoveryInterval,
    username,
    password,
    tls,
  });
}

function tableName(read: Read, variable: string, fallback: string): string {
  const table = read(variable) ?? fallback;
  // DynamoDB's own rule for table names.
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(table)) {
    throw invalid(variable, table, 'a DynamoDB table name: 3-255 characters of a-z, A-Z, 0-9, _ . -');
  }
  return table;
}

function optionalTtl(read: Read, variable: string): number | undefined {
  const value = read(variable);
  if (value === undefined) return undefined;
  // A bare number is refused: Laravel reads seconds, our API reads ms; an explicit unit ends the confusion.
  const allowed = "a duration with a unit, such as '500ms', '30s', '10m', '2h', '1d'";
  if (/^\d+(\.\d+)?$/.test(value)) throw invalid(variable, value, `${allowed} (bare numbers are ambiguous)`);
  try {
    return parseTtl(value);
  } catch {
    throw invalid(variable, value, allowed);
  }
}

function optionalUrl(read: Read, variable: string, protocols: readonly string[]): string | undefined {
  const value = read(variable);
  return value === undefined ? undefined : checkUrl(variable, value, protocols);
}

function checkUrl(variable: string, value: string, protocols: readonly string[]): string {
  const allowed = `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')} and naming a host`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(variable, value, allowed);
  }
  if (!protocols.includes(url.protocol) || url.hostname === '') throw invalid(variable, value, allowed);
  return value;
}

function list(read: Read, variable: string): string[] | undefined {
  const value = read(variable);
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw invalid(variable, value, 'a comma-separated list with no empty items');
  return items;
}

function hostPorts(read: Read, variable: string, defaultPort: number): HostPort[] | undefined {
  return list(read, variable)?.map((item) => parseHostPort(variable, item, defaultPort));
}

/** Parses `host:port`, `host` (default port) or `[ipv6]:port`. */
function parseHostPort(variable: string, value: string, defaultPort: number): HostPort {
  const allowed = `host:port (port 1-65535; default ${defaultPort}), e.g. '10.0.0.1:${defaultPort}'`;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]@]+))(?::(\d{1,5}))?$/.exec(value);
  if (!match) throw invalid(variable, value, allowed);
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65535) throw invalid(variable, value, allowed);
  return { host: (match[1] ?? match[2])!, port };
}

function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Drops undefined fields so configs read cleanly (and compare equal in tests). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
