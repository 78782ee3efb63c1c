import { envReader } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';
import { larderEnv } from '../src/env';

describe('@larder/memory/env', () => {
  it('gives the memory store and reads no variable', () => {
    const read: string[] = [];
    const env = new Proxy({} as Record<string, string>, {
      get: (_t, name) => void (typeof name === 'string' && read.push(name)),
    });
    expect(larderEnv.stores(envReader(env))).toEqual({ memory: { driver: 'memory' } });
    expect(read).toEqual([]);
    expect(larderEnv.variables).toEqual([]);
  });
});
