import { describe, expect, it } from 'vitest';
import { isSecretName, REDACTED, redactConfig, redactEnvValue, redactText } from '../src/util/redact';

describe('redact', () => {
  it('redacts URL passwords and keeps the rest readable', () => {
    expect(redactText('rediss://app:s3cret@host:6380/0')).toBe('rediss://app:***@host:6380/0');
    expect(redactText('redis://:s3cret@host')).toBe('redis://:***@host');
    expect(redactText('redis://s3cret@host')).toBe('redis://***@host');
    expect(redactText('connect to redis://a:b@h1 and redis://c:d@h2 failed')).toBe(
      'connect to redis://a:***@h1 and redis://c:***@h2 failed',
    );
    expect(redactText('user:s3cret@host:1,other:2')).toBe('user:***@host:1,other:2');
    expect(redactText('http://h/?password=s3cret&x=1')).toBe('http://h/?password=***&x=1');
    expect(redactText('redis://host:6379')).toBe('redis://host:6379');
  });

  it('redacts secret variables wholly', () => {
    expect(isSecretName('MEMCACHED_PASSWORD')).toBe(true);
    expect(isSecretName('AWS_SECRET_ACCESS_KEY')).toBe(true);
    expect(isSecretName('AWS_SESSION_TOKEN')).toBe(true);
    expect(isSecretName('MEMCACHED_USERNAME')).toBe(false);
    expect(redactEnvValue('MEMCACHED_PASSWORD', 'pw')).toBe(REDACTED);
    expect(redactEnvValue('REDIS_URL', 'redis://u:pw@h')).toBe('redis://u:***@h');
  });

  it('redacts configs deeply without touching the original', () => {
    const config = {
      default: 'redis',
      stores: { redis: { driver: 'redis', url: 'redis://u:pw@h', replicaUrls: ['redis://:pw@r'] } },
      memcached: { password: 'pw', username: 'app', tls: true },
    };
    expect(redactConfig(config)).toEqual({
      default: 'redis',
      stores: { redis: { driver: 'redis', url: 'redis://u:***@h', replicaUrls: ['redis://:***@r'] } },
      memcached: { password: REDACTED, username: 'app', tls: true },
    });
    expect(config.memcached.password).toBe('pw');
    expect(redactConfig({ client: new Map() })).toEqual({ client: '[Map]' });
  });
});
