import { ConfigError } from '@larder/core';
import { envReader } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';
import { memcachedConfigFromEnv } from '../src/env';
import { type MemcachedStoreOptions, resolveOptions } from '../src/options';
import { ENV_NAMES, OPTION_NAMES, type RuleField } from '../src/rules';

// One resolver, two entrances: each rule gives the same ConfigError from MEMCACHED_* variables
// and from options in code, naming the variable or the option the caller wrote.
const cases: { rule: string; env: Record<string, string>; options: MemcachedStoreOptions; field: RuleField }[] = [
  {
    rule: 'a discovery interval needs a configuration endpoint',
    env: { MEMCACHED_DISCOVERY_INTERVAL: '30s' },
    options: { discoveryInterval: '30s' },
    field: 'discoveryInterval',
  },
  {
    rule: 'SASL needs a password with the user name',
    env: { MEMCACHED_USERNAME: 'app' },
    options: { username: 'app' },
    field: 'password',
  },
  {
    rule: 'SASL needs a user name with the password',
    env: { MEMCACHED_PASSWORD: 'pw' },
    options: { password: 'pw' },
    field: 'username',
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

describe('memcached cross-field rules: environment and code', () => {
  for (const { rule, env, options, field } of cases) {
    it(`${rule}: the same ConfigError from variables and from options`, () => {
      const fromEnv = thrown(() => memcachedConfigFromEnv(envReader(env)));
      const fromCode = thrown(() => resolveOptions(options));
      for (const error of [fromEnv, fromCode]) {
        expect(error).toBeInstanceOf(ConfigError);
        expect(error.code).toBe('E_CONFIG');
      }
      expect(fromEnv.variable).toBe(ENV_NAMES[field]);
      expect(fromCode.variable).toBe(OPTION_NAMES[field]);
      let inOptionNames = fromEnv.message;
      for (const [name, variable] of Object.entries(ENV_NAMES)) {
        inOptionNames = inOptionNames.replaceAll(variable, OPTION_NAMES[name as RuleField]);
      }
      expect(fromCode.message).toBe(`memcached: ${inOptionNames}`);
      expect(fromEnv.message).not.toContain('pw');
    });
  }
});
