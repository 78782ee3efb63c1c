import { ConfigError, configFromEnv } from '@larder/core';
import { isValidUserinfo, redactConfig, redactText, redactUrl } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';

// Passwords in URLs are found by parsing (the userinfo ends at the LAST '@'), never by a pattern:
// the pattern stopped at '/' and at the first '@' and printed the rest of such passwords.

/** URLs whose userinfo is not valid, each with its secret part. */
const BROKEN = [
  'redis://u:Pa/ss-SECRET@host:6379', // base64 secrets hold '/'
  'redis://:p@ss-SECRET@127.0.0.1', // an unencoded '@'
  'redis://u:pa ss-SECRET@host', // a space
  'redis://u:50%zz-SECRET@host', // a bad % escape
  'rediss://u:a?b#c-SECRET@host:6380/0', // '?' and '#'
];

function configError(env: Record<string, string>): ConfigError {
  try {
    configFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('redaction by parsing', () => {
  it.each([
    ['redis://u:Pa/ss-SECRET@host:6379', 'redis://***@host:6379'],
    ['redis://:p@ss-SECRET@127.0.0.1', 'redis://***@127.0.0.1'],
    ['redis://u:50%zz-SECRET@host', 'redis://***@host'],
    ['rediss://app:SECRET@host:6380/0', 'rediss://app:***@host:6380/0'],
    ['rediss://app:Pa%2Fss%40SECRET@host', 'rediss://app:***@host'],
    ['redis://SECRET@host', 'redis://***@host'],
    ['http://h/x?token=SECRET&db=1#top', 'http://h/x?token=***&db=1#top'],
    ['redis://host:6379/0', 'redis://host:6379/0'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactText(`connect to ${url} failed`)).toBe(`connect to ${shown} failed`);
    expect(redactText(`'${url}'`)).toBe(`'${shown}'`);
  });

  it('redacts each URL of a comma list, and user:password@host words', () => {
    const list = 'redis://:a/b-SECRET@r1:6379,redis://u:c@d-SECRET@r2';
    expect(redactText(`REDIS_REPLICA_URLS='${list}'`)).toBe("REDIS_REPLICA_URLS='redis://***@r1:6379,redis://***@r2'");
    expect(redactText('user:pa/ss-SECRET@host:1,other:2')).toBe('user:***@host:1,other:2');
    expect(redactConfig({ url: BROKEN[0], replicaUrls: [BROKEN[1]] })).toEqual({
      url: 'redis://***@host:6379',
      replicaUrls: ['redis://***@127.0.0.1'],
    });
  });

  it('a URL ended early by a space in its password is followed to its @; a real port is not', () => {
    expect(redactText('failed: redis://u:pa ss-SECRET@host:1 now')).toBe('failed: redis://***@host:1 now');
    expect(redactText('redis://host:6379 refused user@example.com')).toBe('redis://host:6379 refused user@example.com');
  });

  it.each(BROKEN)('never prints a secret of %s', (url) => {
    expect(redactText(`failed: ${url}`)).not.toContain('SECRET');
  });

  it('knows a valid userinfo from one that must be refused', () => {
    for (const ok of ['u:p', ':p', 'u', 'u:p%2F%40', "u:!$&'()*+,;=~-._", 'u:pässword']) {
      expect(isValidUserinfo(ok), ok).toBe(true);
    }
    for (const bad of ['u:a/b', 'u:a@b', 'u:a b', 'u:%zz', 'u:%4', 'u:a?b', 'u:a#b', 'u:[x]', 'u:a\\b', 'u:\t']) {
      expect(isValidUserinfo(bad), bad).toBe(false);
    }
  });
});

describe('URLs with a userinfo that is not valid are refused, showing no part of them', () => {
  const variables = ['REDIS_URL', 'REDIS_REPLICA_URLS', 'CACHE_BUS_URL', 'DYNAMODB_ENDPOINT'];
  for (const variable of variables) {
    it.each(BROKEN)(`${variable}=%s`, (url) => {
      const value = variable === 'DYNAMODB_ENDPOINT' ? url.replace(/^rediss?:/, 'https:') : url;
      const error = configError({ [variable]: value, CACHE_L1: 'on', CACHE_DRIVER: 'memory' });
      expect(error.code).toBe('E_CONFIG');
      expect(error.variable).toBe(variable);
      expect(error.message).toContain('percent-encode the password');
      for (const part of ['SECRET', 'host', '127.0.0.1', 'Pa', 'ss-', '50%']) expect(error.message).not.toContain(part);
    });
  }

  it('accepts the same passwords percent-encoded', () => {
    const url = 'redis://u:Pa%2Fss%40x%20y@host:6379';
    const config = configFromEnv({ REDIS_URL: url, CACHE_DRIVER: 'redis' });
    expect(config.stores?.redis).toMatchObject({ url });
  });

  it('refuses credentials in host lists without showing them', () => {
    const error = configError({ REDIS_SENTINELS: 'user:pw-x ss-SECRET@h1:26379,h2:26379' });
    expect(error.variable).toBe('REDIS_SENTINELS');
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain('pw-x');
  });
});
