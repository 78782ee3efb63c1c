import { ConfigError } from '@larder/core';
import { envReader } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';
import { larderEnv, memcachedConfigFromEnv } from '../src/env';

const config = (env: Record<string, string>) => memcachedConfigFromEnv(envReader(env));

describe('@larder/memcached/env', () => {
  it('gives a bare memcached store, the elasticache alias, and reads only the variables it lists', () => {
    const read = new Set<string>();
    const env = new Proxy({ MEMCACHED_USERNAME: 'u', MEMCACHED_PASSWORD: 'p' } as Record<string, string>, {
      get(target, name) {
        if (typeof name !== 'string') return undefined;
        read.add(name);
        return target[name];
      },
    });
    expect(larderEnv.stores(envReader(env))).toEqual({
      memcached: { driver: 'memcached', username: 'u', password: 'p' },
    });
    expect([...read].sort()).toEqual([...larderEnv.variables].sort());
    expect(larderEnv.aliases).toEqual({ elasticache: 'memcached' });
  });

  it('normalises addresses with the default port and brackets IPv6', () => {
    expect(config({ MEMCACHED_SERVERS: 'a, [::1]:11212,b:1' }).servers).toEqual(['a:11211', '[::1]:11212', 'b:1']);
    expect(config({ MEMCACHED_CONFIG_ENDPOINT: 'cfg.example.com' }).configEndpoint).toBe('cfg.example.com:11211');
  });

  it('fails naming the variable, never printing the password', () => {
    expect(() => config({ MEMCACHED_SERVERS: 'a:0' })).toThrow(ConfigError);
    expect(() => config({ MEMCACHED_TLS: 'perhaps' })).toThrow(/MEMCACHED_TLS='perhaps'/);
    let message = '';
    try {
      config({ MEMCACHED_PASSWORD: 'hunter2' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/MEMCACHED_USERNAME/);
    expect(message).not.toContain('hunter2');
  });
});
