import { describe, expect, it } from 'vitest';
import { configFromEnv, defineConfig, ENV_VARIABLES } from '../src/config/config-from-env';
import { ConfigError } from '../src/contract/errors';

function configError(env: Record<string, string>, options?: { drivers?: string[] }): ConfigError {
  try {
    configFromEnv(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configFromEnv', () => {
  it('gives every built-in store and memory as the default with an empty env', () => {
    expect(configFromEnv({})).toEqual({
      default: 'memory',
      sessionStore: 'memory',
      stores: {
        memory: { driver: 'memory' },
        redis: { driver: 'redis' },
        memcached: { driver: 'memcached' },
        dynamodb: { driver: 'dynamodb', table: 'CacheTable' },
        dynamodb_sessions: { driver: 'dynamodb', table: 'SessionTable' },
      },
    });
  });

  it('reads the Laravel DynamoDB set-up from the source documents', () => {
    const config = configFromEnv({
      CACHE_DRIVER: 'dynamodb',
      SESSION_DRIVER: 'dynamodb',
      SESSION_STORE: 'dynamodb_sessions',
      CACHE_TABLE: 'MyCache',
      SESSION_TABLE: 'MySessions',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(config.default).toBe('dynamodb');
    expect(config.sessionStore).toBe('dynamodb_sessions');
    expect(config.stores?.dynamodb).toEqual({
      driver: 'dynamodb',
      table: 'MyCache',
      endpoint: 'http://127.0.0.1:8000',
      region: 'eu-west-1',
    });
    expect(config.stores?.dynamodb_sessions).toMatchObject({ table: 'MySessions', region: 'eu-west-1' });
  });

  it('maps SESSION_DRIVER=dynamodb to the sessions table and otherwise to the named store', () => {
    expect(configFromEnv({ SESSION_DRIVER: 'dynamodb' }).sessionStore).toBe('dynamodb_sessions');
    expect(configFromEnv({ SESSION_DRIVER: 'redis', CACHE_DRIVER: 'memcached' }).sessionStore).toBe('redis');
    expect(configFromEnv({ CACHE_DRIVER: 'redis' }).sessionStore).toBe('redis');
    expect(configFromEnv({ SESSION_STORE: 'memory', SESSION_DRIVER: 'redis' }).sessionStore).toBe('memory');
  });

  it('prefers CACHE_STORE over CACHE_DRIVER, maps elasticache to the memcached store, and treats empty as unset', () => {
    expect(configFromEnv({ CACHE_STORE: 'redis', CACHE_DRIVER: 'memcached' }).default).toBe('redis');
    expect(configFromEnv({ CACHE_DRIVER: 'elasticache' }).default).toBe('memcached');
    expect(configFromEnv({ CACHE_DRIVER: '', CACHE_PREFIX: ' ' }).default).toBe('memory');
    expect(configFromEnv({ CACHE_PREFIX: ' ' }).prefix).toBeUndefined();
  });

  it('reads prefix and TTL (TTL needs a unit)', () => {
    const config = configFromEnv({ CACHE_PREFIX: 'shop:prod:', CACHE_TTL: '10m' });
    expect(config.prefix).toBe('shop:prod:');
    expect(config.ttl).toBe(600_000);
  });

  it('reads every Redis variable', () => {
    expect(
      configFromEnv({
        REDIS_URL: 'rediss://app:s3cret@primary.example.com:6380/0',
        REDIS_REPLICA_URLS: 'redis://r1:6379, redis://r2:6379',
        REDIS_READ_FROM: 'replica',
      }).stores?.redis,
    ).toEqual({
      driver: 'redis',
      url: 'rediss://app:s3cret@primary.example.com:6380/0',
      replicaUrls: ['redis://r1:6379', 'redis://r2:6379'],
      readFrom: 'replica',
    });
    expect(
      configFromEnv({ REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2', REDIS_SENTINEL_NAME: 'main' }).stores?.redis,
    ).toEqual({
      driver: 'redis',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      sentinelName: 'main',
    });
    expect(configFromEnv({ REDIS_CLUSTER_NODES: 'cfg.example.com:7000,[::1]:7001' }).stores?.redis).toEqual({
      driver: 'redis',
      clusterNodes: [
        { host: 'cfg.example.com', port: 7000 },
        { host: '::1', port: 7001 },
      ],
    });
  });

  it('reads every memcached variable', () => {
    expect(
      configFromEnv({
        MEMCACHED_CONFIG_ENDPOINT: 'cluster.cfg.use1.cache.amazonaws.com',
        MEMCACHED_DISCOVERY_INTERVAL: '30s',
        MEMCACHED_USERNAME: 'app',
        MEMCACHED_PASSWORD: 'pw',
        MEMCACHED_TLS: 'YES',
      }).stores?.memcached,
    ).toEqual({
      driver: 'memcached',
      configEndpoint: 'cluster.cfg.use1.cache.amazonaws.com:11211',
      discoveryInterval: 30_000,
      username: 'app',
      password: 'pw',
      tls: true,
    });
    expect(configFromEnv({ MEMCACHED_SERVERS: 'a:11211,b:11212,c', MEMCACHED_TLS: 'off' }).stores?.memcached).toEqual({
      driver: 'memcached',
      servers: ['a:11211', 'b:11212', 'c:11211'],
      tls: false,
    });
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION', () => {
    const config = configFromEnv({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-west-1' });
    expect(config.stores?.dynamodb).toMatchObject({ region: 'us-west-2' });
  });

  it('accepts custom driver names only when declared', () => {
    const config = configFromEnv(
      { CACHE_DRIVER: 'my-driver', SESSION_DRIVER: 'my-driver' },
      { drivers: ['my-driver'] },
    );
    expect(config.default).toBe('my-driver');
    expect(config.sessionStore).toBe('my-driver');
    expect(config.stores?.['my-driver']).toEqual({ driver: 'my-driver' });
  });

  it('defineConfig returns its argument', () => {
    const config = { default: 'redis', stores: { redis: { driver: 'redis' as const } } };
    expect(defineConfig(config)).toBe(config);
  });
});

describe('configFromEnv validation', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['CACHE_DRIVER', { CACHE_DRIVER: 'file' }, /memory, redis, memcached, dynamodb, dynamodb_sessions, elasticache/],
    ['CACHE_STORE', { CACHE_STORE: 'mongo' }, /one of memory/],
    ['SESSION_DRIVER', { SESSION_DRIVER: 'cookie' }, /one of memory/],
    ['SESSION_STORE', { SESSION_STORE: 'sessions' }, /one of memory/],
    ['CACHE_TTL', { CACHE_TTL: 'soon' }, /duration with a unit/],
    ['CACHE_TTL', { CACHE_TTL: '3600' }, /bare numbers are ambiguous/],
    ['CACHE_TTL', { CACHE_TTL: '-5s' }, /duration/],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }, /redis:\/\/ or rediss:\/\//],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }, /redis:\/\//],
    ['REDIS_URL', { REDIS_URL: 'redis://' }, /naming a host/],
    ['REDIS_REPLICA_URLS', { REDIS_REPLICA_URLS: 'redis://r1,not a url' }, /URL/],
    ['REDIS_REPLICA_URLS', { REDIS_REPLICA_URLS: 'redis://r1,,redis://r2' }, /no empty items/],
    ['REDIS_READ_FROM', { REDIS_READ_FROM: 'nearest' }, /'primary' or 'replica'/],
    ['REDIS_READ_FROM', { REDIS_READ_FROM: 'replica' }, /needs REDIS_REPLICA_URLS/],
    ['REDIS_SENTINELS', { REDIS_SENTINELS: 'host:port' }, /host:port/],
    ['REDIS_SENTINELS', { REDIS_SENTINELS: 'host:70000' }, /1-65535/],
    ['REDIS_SENTINEL_NAME', { REDIS_SENTINEL_NAME: 'main' }, /REDIS_SENTINELS is not/],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'a b:7000' }, /host:port/],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 'b:26379' }, /Sentinel mode or Cluster/],
    ['REDIS_REPLICA_URLS', { REDIS_REPLICA_URLS: 'redis://r1', REDIS_CLUSTER_NODES: 'a:7000' }, /cannot be combined/],
    ['MEMCACHED_SERVERS', { MEMCACHED_SERVERS: 'a:11211,:11211' }, /host:port/],
    ['MEMCACHED_SERVERS', { MEMCACHED_SERVERS: 'a:0' }, /port 1-65535/],
    ['MEMCACHED_CONFIG_ENDPOINT', { MEMCACHED_CONFIG_ENDPOINT: 'http://cfg:11211' }, /host:port/],
    ['MEMCACHED_DISCOVERY_INTERVAL', { MEMCACHED_CONFIG_ENDPOINT: 'cfg', MEMCACHED_DISCOVERY_INTERVAL: '60' }, /unit/],
    ['MEMCACHED_DISCOVERY_INTERVAL', { MEMCACHED_DISCOVERY_INTERVAL: '60s' }, /MEMCACHED_CONFIG_ENDPOINT is not/],
    ['MEMCACHED_TLS', { MEMCACHED_TLS: 'maybe' }, /true\/false/],
    ['MEMCACHED_USERNAME', { MEMCACHED_PASSWORD: 'pw' }, /both MEMCACHED_USERNAME and MEMCACHED_PASSWORD/],
    ['MEMCACHED_PASSWORD', { MEMCACHED_USERNAME: 'app' }, /MEMCACHED_PASSWORD is not set/],
    ['CACHE_TABLE', { CACHE_TABLE: 'a' }, /DynamoDB table name/],
    ['SESSION_TABLE', { SESSION_TABLE: 'bad table!' }, /DynamoDB table name/],
    ['DYNAMODB_ENDPOINT', { DYNAMODB_ENDPOINT: 'localhost:8000' }, /http:\/\/ or https:\/\//],
    ['AWS_REGION', { AWS_REGION: 'EU West' }, /AWS region/],
    ['AWS_DEFAULT_REGION', { AWS_DEFAULT_REGION: 'eu_west_1' }, /AWS region/],
    ['CACHE_BREAKER', { CACHE_BREAKER: 'maybe' }, /true|on/],
  ];

  it.each(cases)('rejects a bad %s', (variable, env, allowed) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(variable);
    expect(error.message).toMatch(allowed);
  });

  it('CACHE_BREAKER=on puts the L2 breaker on every store; off or unset, on none', () => {
    const stores = configFromEnv({ CACHE_BREAKER: 'on', CACHE_DRIVER: 'redis' }).stores ?? {};
    expect(Object.values(stores).every((store) => store.breaker === true)).toBe(true);
    expect(stores.redis).toEqual({ driver: 'redis', breaker: true });
    for (const env of [{}, { CACHE_BREAKER: 'off' }]) {
      expect(Object.values(configFromEnv(env).stores ?? {}).some((store) => 'breaker' in store)).toBe(false);
    }
  });

  it('names the bad value', () => {
    expect(configError({ REDIS_READ_FROM: 'nearest' }).message).toBe(
      "Invalid REDIS_READ_FROM='nearest': expected 'primary' or 'replica'",
    );
  });

  it('never prints passwords', () => {
    const urlError = configError({ REDIS_URL: 'redis://app:hunter2@/0' });
    expect(urlError.message).not.toContain('hunter2');
    expect(urlError.message).toContain("'redis://app:***@/0'");
    const replicaError = configError({ REDIS_REPLICA_URLS: 'redis://:hunter2@r1,ftp://u:hunter2@r2' });
    expect(replicaError.message).not.toContain('hunter2');
    const sentinelError = configError({ REDIS_SENTINELS: 'user:hunter2@host:1' });
    expect(sentinelError.message).not.toContain('hunter2');
    const memcachedError = configError({ MEMCACHED_PASSWORD: 'hunter2' });
    expect(memcachedError.message).not.toContain('hunter2');
  });

  it('rejects an unknown custom driver and tells how to declare it', () => {
    expect(configError({ CACHE_DRIVER: 'my-driver' }).message).toMatch(/configFromEnv\(env, \{ drivers/);
    expect(configFromEnv({ CACHE_DRIVER: 'my-driver' }, { drivers: ['my-driver'] }).default).toBe('my-driver');
  });
});

describe('ENV_VARIABLES', () => {
  it('lists exactly the variables configFromEnv reads', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_target, name) {
        if (typeof name === 'string') read.add(name);
        return undefined;
      },
    });
    configFromEnv(env);
    // Variables only read when another one is set (e.g. the Sentinel name).
    const full = {
      REDIS_URL: 'redis://h:6379',
      REDIS_SENTINELS: 'h:26379',
      MEMCACHED_CONFIG_ENDPOINT: 'h:11211',
      MEMCACHED_USERNAME: 'u',
      MEMCACHED_PASSWORD: 'p',
    };
    const watched = new Proxy(full as Record<string, string | undefined>, {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return typeof name === 'string' ? target[name] : undefined;
      },
    });
    try {
      configFromEnv(watched);
    } catch {
      // Conflicting topologies may be refused; the reads happened.
    }
    expect([...read].sort()).toEqual([...ENV_VARIABLES].sort());
  });
});
