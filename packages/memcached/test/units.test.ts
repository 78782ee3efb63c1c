import { ConfigError } from '@larder/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NodeHealth } from '../src/node-health';
import { NodeProbes } from '../src/node-probes';
import { parseAddress, resolveOptions } from '../src/options';

describe('NodeHealth', () => {
  it('ejects after N consecutive failures, readmits on probation, never ejects the last node', () => {
    const health = new NodeHealth(3);
    expect(health.failure('a', false)).toBe(false);
    health.success('a');
    expect(health.failure('a', false)).toBe(false);
    expect(health.failure('a', false)).toBe(false);
    expect(health.failure('a', false)).toBe(true);
    expect(health.isEjected('a')).toBe(true);
    expect(health.failure('a', false)).toBe(false); // already out
    expect(health.readmit('a')).toBe(true);
    expect(health.readmit('a')).toBe(false);
    expect(health.isEjected('a')).toBe(false);
    // On probation: one failure is enough.
    expect(health.failure('a', false)).toBe(true);
    health.readmit('a');
    health.success('a');
    expect(health.failure('a', false)).toBe(false);
    // The last node on the ring stays, however often it fails.
    for (let i = 0; i < 10; i++) expect(health.failure('b', true)).toBe(false);
    expect(health.isEjected('b')).toBe(false);
  });
});

describe('NodeProbes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('probes at 100 ms doubling up to the cap, stops on the first answer, and stopAll cancels every timer', async () => {
    vi.useFakeTimers();
    const probes = new NodeProbes(500);
    const at: number[] = [];
    let answer = false;
    let answered = 0;
    probes.start(
      'a',
      async () => {
        at.push(Date.now());
        if (!answer) throw new Error('down');
      },
      () => answered++,
    );
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 500 + 500);
    expect(at.map((t) => t - t0)).toEqual([100, 300, 700, 1200, 1700]);
    answer = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(answered).toBe(1);
    expect(probes.probing()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    probes.start(
      'b',
      () => Promise.reject(new Error('down')),
      () => answered++,
    );
    probes.start(
      'c',
      () => Promise.reject(new Error('down')),
      () => answered++,
    );
    expect(vi.getTimerCount()).toBe(2);
    probes.stopAll();
    expect(vi.getTimerCount()).toBe(0);
    probes.start(
      'd',
      () => Promise.resolve(),
      () => answered++,
    );
    expect(vi.getTimerCount()).toBe(0);
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
    expect(resolveOptions({ configEndpoint: 'cfg:11211', discoveryInterval: '2s' }).discoveryIntervalMs).toBe(2000);
    expect(() => resolveOptions({ username: 'u' })).toThrow(/username and password/);
    expect(() => resolveOptions({ servers: [] })).toThrow(ConfigError);
    expect(() => resolveOptions({ timeout: 0 })).toThrow(expect.objectContaining({ variable: 'timeout' }));
    expect(() => resolveOptions({ retries: -1 })).toThrow(expect.objectContaining({ variable: 'retries' }));
    expect(resolveOptions({ tls: true }).tls).toEqual({});
  });
});
