import { ConfigError } from '@larder/core';
import { describe, expect, it } from 'vitest';
import { NodeHealth } from '../src/node-health';
import { parseAddress, resolveOptions } from '../src/options';

describe('NodeHealth', () => {
  it('ejects after N consecutive failures, readmits on probation after the retry period', () => {
    let now = 0;
    const health = new NodeHealth(3, 1000, () => now);
    expect(health.failure('a')).toBe(false);
    health.success('a');
    expect(health.failure('a')).toBe(false);
    expect(health.failure('a')).toBe(false);
    expect(health.failure('a')).toBe(true);
    expect(health.isEjected('a')).toBe(true);
    expect(health.failure('a')).toBe(false); // already out
    now = 999;
    expect(health.readmitDue()).toEqual([]);
    now = 1000;
    expect(health.readmitDue()).toEqual(['a']);
    expect(health.isEjected('a')).toBe(false);
    // On probation: one failure is enough.
    expect(health.failure('a')).toBe(true);
    now = 2000;
    health.readmitDue();
    health.success('a');
    expect(health.failure('a')).toBe(false);
  });
});

describe('options', () => {
  it('parses host:port, default port and IPv6', () => {
    expect(parseAddress('cache.local', 'servers')).toEqual({ host: 'cache.local', port: 11211 });
    expect(parseAddress('10.0.0.1:21211', 'servers')).toEqual({ host: '10.0.0.1', port: 21211 });
    expect(parseAddress('[::1]:11212', 'servers')).toEqual({ host: '::1', port: 11212 });
    expect(() => parseAddress('a:b:c', 'servers')).toThrow(ConfigError);
    expect(() => parseAddress('host:99999', 'servers')).toThrow(ConfigError);
  });

  it('validates once, naming the option', () => {
    expect(resolveOptions({}).servers).toEqual([{ host: '127.0.0.1', port: 11211 }]);
    expect(resolveOptions({ configEndpoint: 'cfg:11211' }).servers).toEqual([]);
    expect(resolveOptions({ discoveryInterval: '2s' }).discoveryIntervalMs).toBe(2000);
    expect(() => resolveOptions({ username: 'u' })).toThrow(/username and password/);
    expect(() => resolveOptions({ servers: [] })).toThrow(ConfigError);
    expect(() => resolveOptions({ timeout: 0 })).toThrow(expect.objectContaining({ variable: 'timeout' }));
    expect(() => resolveOptions({ retries: -1 })).toThrow(expect.objectContaining({ variable: 'retries' }));
    expect(resolveOptions({ tls: true }).tls).toEqual({});
  });
});
