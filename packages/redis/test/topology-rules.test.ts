import { ConfigError } from '@larder/core';
import { envReader } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';
import { redisConfigFromEnv } from '../src/env';
import { type RedisStoreOptions, resolveOptions } from '../src/options';
import { ENV_NAMES, OPTION_NAMES } from '../src/topology-rules';

// One resolver, two entrances: each rule gives the same typed error from REDIS_* variables and
// from options in code, naming the variable or the option the caller wrote.
const cases: {
  rule: string;
  env: Record<string, string>;
  options: RedisStoreOptions;
  field: keyof typeof ENV_NAMES;
}[] = [
  {
    rule: 'Sentinel xor Cluster',
    env: { REDIS_SENTINELS: 's:26379', REDIS_CLUSTER_NODES: 'c:6379' },
    options: { sentinels: [{ host: 's', port: 26379 }], clusterNodes: [{ host: 'c', port: 6379 }] },
    field: 'clusterNodes',
  },
  {
    rule: 'no replica URLs with Sentinel',
    env: { REDIS_REPLICA_URLS: 'redis://r:6379', REDIS_SENTINELS: 's:26379' },
    options: { replicaUrls: ['redis://r:6379'], sentinels: [{ host: 's', port: 26379 }] },
    field: 'replicaUrls',
  },
  {
    rule: 'no replica URLs with Cluster',
    env: { REDIS_REPLICA_URLS: 'redis://r:6379', REDIS_CLUSTER_NODES: 'c:6379' },
    options: { replicaUrls: ['redis://r:6379'], clusterNodes: [{ host: 'c', port: 6379 }] },
    field: 'replicaUrls',
  },
  {
    rule: 'a Sentinel name needs Sentinels',
    env: { REDIS_SENTINEL_NAME: 'main' },
    options: { sentinelName: 'main' },
    field: 'sentinelName',
  },
  {
    rule: 'replica reads need somewhere to read from',
    env: { REDIS_READ_FROM: 'replica' },
    options: { readFrom: 'replica' },
    field: 'readFrom',
  },
  {
    rule: "readFrom is 'primary' or 'replica'",
    env: { REDIS_READ_FROM: 'nearest' },
    options: { readFrom: 'nearest' as 'primary' },
    field: 'readFrom',
  },
];

function thrown(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** The env message with each variable replaced by the option name. */
function inOptionNames(message: string): string {
  let text = message;
  for (const [field, variable] of Object.entries(ENV_NAMES)) {
    text = text.replaceAll(variable, OPTION_NAMES[field as keyof typeof ENV_NAMES]);
  }
  return text;
}

describe('Redis cross-field rules: environment and code', () => {
  for (const { rule, env, options, field } of cases) {
    it(`${rule}: the same ConfigError from variables and from options`, () => {
      const fromEnv = thrown(() => redisConfigFromEnv(envReader(env)));
      const fromCode = thrown(() => resolveOptions(options));
      for (const error of [fromEnv, fromCode]) {
        expect(error).toBeInstanceOf(ConfigError);
        expect(error.code).toBe('E_CONFIG');
      }
      expect(fromEnv.variable).toBe(ENV_NAMES[field]);
      expect(fromCode.variable).toBe(OPTION_NAMES[field]);
      expect(inOptionNames(fromEnv.message)).toBe(fromCode.message);
    });
  }

  it('accepts each mode alone, read from variables and then resolved as options', () => {
    for (const env of [
      { REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'main', REDIS_READ_FROM: 'replica' },
      { REDIS_CLUSTER_NODES: 'c:6379', REDIS_READ_FROM: 'replica' },
      { REDIS_REPLICA_URLS: 'redis://r:6379', REDIS_READ_FROM: 'replica' },
    ]) {
      expect(() => resolveOptions(redisConfigFromEnv(envReader(env)))).not.toThrow();
    }
  });

  it('a bad read-your-writes window is a ConfigError naming the option, as REDIS_READ_YOUR_WRITES is', () => {
    const fromEnv = thrown(() => redisConfigFromEnv(envReader({ REDIS_READ_YOUR_WRITES: 'soon' })));
    const fromCode = thrown(() => resolveOptions({ readYourWritesMs: 'soon' as '1s' }));
    expect(fromEnv.code).toBe('E_CONFIG');
    expect(fromCode).toBeInstanceOf(ConfigError);
    expect(fromCode.variable).toBe('readYourWritesMs');
  });
});
