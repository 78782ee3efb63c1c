import { describe, expect, it } from 'vitest';
import { configFromEnv, ENV_VARIABLES, envVariables } from '../src/config/config-from-env';
import type { DriverEnvironment } from '../src/config/store-config';
import { customDriver } from '../src/config/store-config';
import { ConfigError } from '../src/contract/errors';

// A fifth driver, as a package would ship it in `<package>/env`: core changes nothing to take it.
const fifth: DriverEnvironment = {
  driver: 'couch',
  variables: ['COUCH_URL'],
  aliases: { sofa: 'couch' },
  stores: (read) => ({
    couch: { driver: customDriver('couch'), url: read.url('COUCH_URL', ['http:']) ?? 'http://127.0.0.1:5984' },
  }),
};

describe('driver environments', () => {
  it('takes stores, aliases and variables from an environment module passed in', () => {
    const config = configFromEnv({ CACHE_DRIVER: 'sofa', COUCH_URL: 'http://db:5984' }, { environments: [fifth] });
    expect(config.default).toBe('couch');
    expect(config.stores?.couch).toEqual({ driver: 'couch', url: 'http://db:5984' });
    expect(config.stores?.redis).toEqual({ driver: 'redis' });
    expect(envVariables({ environments: [fifth] })).toContain('COUCH_URL');
    expect(ENV_VARIABLES).not.toContain('COUCH_URL');
  });

  it("fails at start-up naming the driver's variable", () => {
    expect(() => configFromEnv({ COUCH_URL: 'ftp://db' }, { environments: [fifth] })).toThrow(ConfigError);
    expect(() => configFromEnv({ COUCH_URL: 'ftp://db' }, { environments: [fifth] })).toThrow(/COUCH_URL/);
  });

  it('lets an environment module replace a built-in one of the same driver name', () => {
    const redis: DriverEnvironment = { driver: 'redis', variables: [], stores: () => ({ cache: { driver: 'redis' } }) };
    const config = configFromEnv({ CACHE_DRIVER: 'cache', REDIS_URL: 'not a url' }, { environments: [redis] });
    expect(config.default).toBe('cache');
    expect(config.stores?.redis).toBeUndefined();
    expect(envVariables({ environments: [redis] })).not.toContain('REDIS_URL');
  });

  it('ENV_VARIABLES reads like an array of every variable', () => {
    expect(Array.isArray(ENV_VARIABLES)).toBe(true);
    expect([...ENV_VARIABLES]).toEqual(envVariables());
    expect(ENV_VARIABLES.length).toBe(envVariables().length);
    expect(ENV_VARIABLES.filter((name) => name.startsWith('MEMCACHED_'))).toHaveLength(6);
    expect(new Set(ENV_VARIABLES).has('REDIS_TLS_CA_FILE')).toBe(true);
  });
});
