import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@larder/core';
import { envReader } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';
import { larderEnv, redisConfigFromEnv } from '../src/env';

const config = (env: Record<string, string>) => redisConfigFromEnv(envReader(env));

describe('@larder/redis/env', () => {
  it('gives a bare redis store with no variables and reads only the variables it lists', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string>, {
      get: (_t, name) => void (typeof name === 'string' && read.add(name)),
    });
    expect(larderEnv.stores(envReader(env))).toEqual({ redis: { driver: 'redis' } });
    expect([...read].sort()).toEqual([...larderEnv.variables].sort());
  });

  it('reads the read-your-writes window as ms or a duration, and the CA file', () => {
    expect(config({ REDIS_READ_YOUR_WRITES: '1500' }).readYourWritesMs).toBe(1500);
    expect(config({ REDIS_READ_YOUR_WRITES: '5s' }).readYourWritesMs).toBe(5000);
    const file = join(tmpdir(), `larder-ca-${process.pid}.pem`);
    writeFileSync(file, 'PEM');
    expect((config({ REDIS_TLS_CA_FILE: file }).tls as { ca?: Buffer }).ca?.toString()).toBe('PEM');
  });

  it('fails naming the variable', () => {
    expect(() => config({ REDIS_READ_YOUR_WRITES: 'soon' })).toThrow(ConfigError);
    expect(() => config({ REDIS_READ_YOUR_WRITES: 'soon' })).toThrow(/REDIS_READ_YOUR_WRITES='soon'/);
    expect(() => config({ REDIS_TLS_CA_FILE: '/no/such/ca.pem' })).toThrow(/REDIS_TLS_CA_FILE/);
    expect(() => config({ REDIS_CLUSTER_NODES: 'a:99999' })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('names a bad port in REDIS_URL as the reason, not the host; the password stays out', () => {
    expect(() => config({ REDIS_URL: 'redis://:pw-4f1c@127.0.0.1:99999' })).toThrow(
      "Invalid REDIS_URL='redis://:***@127.0.0.1:99999': expected a port from 1 to 65535 after the host, got '99999'",
    );
    expect(() => config({ REDIS_URL: 'redis://cache.local:port/0' })).toThrow(/got 'port'/);
    expect(() => config({ REDIS_REPLICA_URLS: 'redis://a:6379,redis://b:0' })).toThrow(/REDIS_REPLICA_URLS=.*got '0'/);
    expect(config({ REDIS_URL: 'rediss://user:p%40ss@[::1]:6380/2' }).url).toBe('rediss://user:p%40ss@[::1]:6380/2');
    expect(config({ REDIS_URL: 'redis://cache.local' }).url).toBe('redis://cache.local');
  });

  it('never takes part of a password for the port it names', () => {
    for (const url of ['redis://app:hunter2@/0', 'redis://u:Pa/ss-SECRET@host:6379', 'redis://u:hunter2@x@host:1a']) {
      let message = '';
      try {
        config({ REDIS_URL: url });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^Invalid REDIS_URL/);
      expect(message).not.toMatch(/hunter2|SECRET|Pa'/);
    }
  });
});
