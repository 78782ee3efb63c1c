import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configFromEnv, ENV_VARIABLES } from '../src/config/config-from-env';
import { ConfigError } from '../src/contract/errors';
import { HAS_ZSTD } from '../src/values/compression';

const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');
const nameKey = randomBytes(32).toString('base64');

function configError(env: Record<string, string>): ConfigError {
  try {
    configFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configFromEnv: the value pipeline variables', () => {
  it('lists them among the variables it reads', () => {
    for (const name of ['CACHE_CODEC', 'CACHE_COMPRESS', 'CACHE_COMPRESS_MIN_BYTES', 'CACHE_ENCRYPTION_KEYS']) {
      expect(ENV_VARIABLES).toContain(name);
    }
    expect(ENV_VARIABLES).toContain('CACHE_HASH_KEYS');
    expect(ENV_VARIABLES).toContain('CACHE_MAX_VALUE_BYTES');
    expect(ENV_VARIABLES).toContain('SESSION_ENCRYPT');
  });

  it('compression, codec and the ceiling apply to every store; encryption to the default store', () => {
    const config = configFromEnv({
      CACHE_DRIVER: 'redis',
      SESSION_STORE: 'memcached',
      CACHE_COMPRESS: 'gzip',
      CACHE_COMPRESS_MIN_BYTES: '2048',
      CACHE_CODEC: 'json',
      CACHE_MAX_VALUE_BYTES: '64mb',
      CACHE_ENCRYPTION_KEYS: `k2:${key2},k1:${key1}`,
      CACHE_HASH_KEYS: nameKey,
    });
    expect(config.stores?.memcached).toMatchObject({
      compress: { algorithm: 'gzip', minBytes: 2048 },
      codec: 'json',
      maxValueBytes: '64mb',
    });
    expect(config.stores?.memcached).not.toHaveProperty('encrypt');
    type Keys = { encrypt: { keys: { id: string; key: Buffer }[]; hashKeys: Buffer } };
    const encrypt = (config.stores as unknown as Record<string, Keys>).redis?.encrypt as Keys['encrypt'];
    expect(encrypt.keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(encrypt.keys[0]?.key.toString('base64')).toBe(key2);
    expect(encrypt.hashKeys.toString('base64')).toBe(nameKey);
    const one = configFromEnv({ CACHE_ENCRYPTION_KEYS: `k1:${key1}`, CACHE_HASH_KEYS: 'yes' });
    expect(one.stores?.memory).toHaveProperty('encrypt.hashKeys', true);
    const off = configFromEnv({ CACHE_ENCRYPTION_KEYS: `k1:${key1}`, CACHE_HASH_KEYS: 'false' });
    expect(off.stores?.memory).not.toHaveProperty('encrypt.hashKeys');
  });

  it('CACHE_COMPRESS_MIN_BYTES without CACHE_COMPRESS is a ConfigError, not ignored; with CACHE_COMPRESS=off it is kept', () => {
    const error = configError({ CACHE_COMPRESS_MIN_BYTES: '2048' });
    expect(error.variable).toBe('CACHE_COMPRESS_MIN_BYTES');
    expect(error.message).toContain('needs CACHE_COMPRESS');
    expect(error.code).toBe('E_CONFIG');
    const off = configFromEnv({ CACHE_COMPRESS: 'off', CACHE_COMPRESS_MIN_BYTES: '2048' });
    expect(off.stores?.memory).not.toHaveProperty('compress');
  });

  it('CACHE_HASH_KEYS=true beside a second key is refused (a rotation would rename every entry)', () => {
    const error = configError({ CACHE_ENCRYPTION_KEYS: `k2:${key2},k1:${key1}`, CACHE_HASH_KEYS: 'true' });
    expect(error.variable).toBe('CACHE_HASH_KEYS');
    expect(error.message).toContain('key of its own');
  });

  it('SESSION_ENCRYPT=true encrypts the session store with the same keys', () => {
    const config = configFromEnv({
      SESSION_STORE: 'redis',
      SESSION_ENCRYPT: 'true',
      CACHE_ENCRYPTION_KEYS: `k1:${key1}`,
    });
    expect(config.stores?.redis).toHaveProperty('encrypt.keys.0.id', 'k1');
    expect(config.stores?.memory).toHaveProperty('encrypt.keys.0.id', 'k1');
    expect(configFromEnv({ CACHE_COMPRESS: 'off' }).stores?.memory).not.toHaveProperty('compress');
  });

  it('bad values fail naming the variable, and never print a key', () => {
    const short = randomBytes(16).toString('base64');
    const cases: [Record<string, string>, string][] = [
      [{ CACHE_COMPRESS: 'lz4' }, 'CACHE_COMPRESS'],
      [{ CACHE_COMPRESS: 'gzip', CACHE_COMPRESS_MIN_BYTES: '1k' }, 'CACHE_COMPRESS_MIN_BYTES'],
      [{ CACHE_CODEC: 'yaml' }, 'CACHE_CODEC'],
      [{ CACHE_MAX_VALUE_BYTES: 'huge' }, 'CACHE_MAX_VALUE_BYTES'],
      [{ CACHE_ENCRYPTION_KEYS: `k1:${short}` }, 'CACHE_ENCRYPTION_KEYS'],
      [{ CACHE_ENCRYPTION_KEYS: key1 }, 'CACHE_ENCRYPTION_KEYS'],
      [{ CACHE_ENCRYPTION_KEYS: `k1:${key1},k1:${key2}` }, 'CACHE_ENCRYPTION_KEYS'],
      [{ CACHE_ENCRYPTION_KEYS: `k1:${key1},` }, 'CACHE_ENCRYPTION_KEYS'],
      [{ CACHE_HASH_KEYS: 'true' }, 'CACHE_HASH_KEYS'],
      [{ CACHE_HASH_KEYS: 'maybe', CACHE_ENCRYPTION_KEYS: `k1:${key1}` }, 'CACHE_HASH_KEYS'],
      [{ CACHE_HASH_KEYS: nameKey }, 'CACHE_HASH_KEYS'],
      [{ CACHE_HASH_KEYS: randomBytes(31).toString('base64'), CACHE_ENCRYPTION_KEYS: `k1:${key1}` }, 'CACHE_HASH_KEYS'],
      [{ SESSION_ENCRYPT: 'true' }, 'SESSION_ENCRYPT'],
      ...(HAS_ZSTD ? [] : [[{ CACHE_COMPRESS: 'zstd' }, 'CACHE_COMPRESS'] as [Record<string, string>, string]]),
    ];
    for (const [env, variable] of cases) {
      const error = configError(env);
      expect(error.variable).toBe(variable);
      for (const secret of [short, key1, key2, nameKey]) expect(error.message).not.toContain(secret);
    }
  });
});

describe('encryption keys are secrets', () => {
  it('CACHE_ENCRYPTION_KEYS and a store config’s encrypt option are redacted whole', async () => {
    const { redactConfig, redactEnvValue } = await import('../src/util/redact');
    expect(redactEnvValue('CACHE_ENCRYPTION_KEYS', `k1:${key1}`)).toBe('***');
    expect(redactEnvValue('CACHE_HASH_KEYS', nameKey)).toBe('***');
    // Keys given in code as base64 text (Buffers print as '[Buffer]' anyway).
    const config = { stores: { r: { driver: 'redis', encrypt: { keys: [{ id: 'k1', key: key1 }] } } } };
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain(key1);
    expect(printed).toContain('redis');
  });
});
