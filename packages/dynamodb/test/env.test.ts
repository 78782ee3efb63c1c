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

describe('endpoint and region: environment and code', () => {
  // One reader, two entrances: the same ConfigError from the variables and from the options.
  for (const [what, env, options, variable, option] of [
    ['a region that is not an AWS region', { AWS_REGION: 'EU West' }, { region: 'EU West' }, 'AWS_REGION', 'region'],
    [
      'an endpoint that is not an http(s) URL',
      { DYNAMODB_ENDPOINT: 'ftp://db:8000' },
      { endpoint: 'ftp://db:8000' },
      'DYNAMODB_ENDPOINT',
      'endpoint',
    ],
  ] as const) {
    it(`${what}: the same ConfigError, naming the variable or the option`, () => {
      const fromEnv = (() => {
        try {
          dynamoConnectionFromEnv(envReader(env));
        } catch (error) {
          return error as ConfigError;
        }
        throw new Error('expected a ConfigError');
      })();
      const fromCode = (() => {
        try {
          resolveOptions(options, {});
        } catch (error) {
          return error as ConfigError;
        }
        throw new Error('expected a ConfigError');
      })();
      for (const error of [fromEnv, fromCode]) expect(error).toBeInstanceOf(ConfigError);
      expect(fromEnv.variable).toBe(variable);
      expect(fromCode.variable).toBe(option);
      expect(fromCode.message).toBe(fromEnv.message.replaceAll(variable, option));
    });
  }
});
