import { ConfigError } from '@larder/core';
import { envReader } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';
import { dynamoConnectionFromEnv, larderEnv } from '../src/env';
import { resolveOptions } from '../src/options';

describe('@larder/dynamodb/env', () => {
  it('gives the cache and session table stores and reads only the variables it lists', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string>, {
      get: (_t, name) => void (typeof name === 'string' && read.add(name)),
    });
    expect(larderEnv.stores(envReader(env))).toEqual({
      dynamodb: { driver: 'dynamodb', table: 'CacheTable' },
      dynamodb_sessions: { driver: 'dynamodb', table: 'SessionTable' },
    });
    expect([...read].sort()).toEqual([...larderEnv.variables].sort());
    expect(larderEnv.sessionAliases).toEqual({ dynamodb: 'dynamodb_sessions' });
  });

  it('the store reads endpoint and region through the same validated reader (config wins)', () => {
    const env = { AWS_DEFAULT_REGION: 'eu-west-1', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' };
    expect(dynamoConnectionFromEnv(envReader(env))).toEqual({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000' });
    expect(resolveOptions({}, env)).toMatchObject({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000' });
    expect(resolveOptions({ region: 'us-west-2' }, env).region).toBe('us-west-2');
    expect(resolveOptions({}, {}).region).toBe('us-east-1');
    // Before, the store took a bad region from the environment unchecked.
    expect(() => resolveOptions({}, { AWS_REGION: 'EU West' })).toThrow(ConfigError);
    expect(() => resolveOptions({}, { AWS_REGION: 'EU West' })).toThrow(/AWS_REGION='EU West'/);
  });
});
