import { describe, expect, it } from 'vitest';
import { dbSystemName, defaultKeyGroup, keyGroup } from '../src/options';

describe('key groups', () => {
  it('turns segments holding a digit into * by default', () => {
    expect(defaultKeyGroup('user:123')).toBe('user:*');
    expect(defaultKeyGroup('user:123:profile')).toBe('user:*:profile');
    expect(defaultKeyGroup('settings')).toBe('settings');
  });

  it('takes the first matching rule: a [regex, group] pair or a function', () => {
    const rules = [[/^sess:/, 'sess:*'] as const, (key: string) => (key.startsWith('report') ? 'reports' : undefined)];
    expect(keyGroup('sess:abc', rules)).toBe('sess:*');
    expect(keyGroup('report:x', rules)).toBe('reports');
    expect(keyGroup('order:9', rules)).toBe('order:*');
  });
});

describe('dbSystemName', () => {
  it('follows the OTel database conventions', () => {
    expect(dbSystemName('dynamodb')).toBe('aws.dynamodb');
    expect(dbSystemName('redis')).toBe('redis');
    expect(dbSystemName('memcached')).toBe('memcached');
    expect(dbSystemName('memory')).toBe('memory');
  });
});

describe('splitAddress', () => {
  it('splits host:port, IPv6 in brackets included', async () => {
    const { splitAddress } = await import('../src/options');
    expect(splitAddress('127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(splitAddress('[::1]:11211')).toEqual({ host: '::1', port: 11211 });
    expect(splitAddress('cache.local')).toEqual({ host: 'cache.local', port: undefined });
  });
});
