import { ConfigError } from '@larder/core';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { groupBySlot, keySlot } from '../src/cluster-slots';
import { parseRedisUrl, redact, resolveOptions } from '../src/options';
import { MAX_TRACKED_KEYS, ReadRouter } from '../src/read-router';
import { scanPattern } from '../src/scan';

describe('cluster slots', () => {
  it('matches Redis CLUSTER KEYSLOT', () => {
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('{}foo')).not.toBe(keySlot(''));
    expect(keySlot('é')).toBeGreaterThanOrEqual(0);
  });
  it('groups keys with their indexes', () => {
    const groups = groupBySlot(['{a}1', 'b', '{a}2']);
    expect(groups.get(keySlot('a'))).toEqual([0, 2]);
    expect(groups.get(keySlot('b'))).toEqual([1]);
  });
});

describe('options', () => {
  it('parses URLs with ACL users, TLS and db; errors redact the password', () => {
    expect(parseRedisUrl('rediss://u:p%40ss@cache.example:6380/2')).toEqual({
      host: 'cache.example',
      port: 6380,
      username: 'u',
      password: 'p@ss',
      db: 2,
      tls: true,
    });
    expect(() => parseRedisUrl('http://u:secret@h')).toThrow(ConfigError);
    expect(() => parseRedisUrl('http://u:secret@h')).not.toThrow(/secret/);
    expect(redact('redis://u:secret@h:1 and rediss://:pw@x')).toBe('redis://u:***@h:1 and rediss://:***@x');
  });
  it('refuses a URL given in code whose user:password part is not valid, showing none of it (as REDIS_URL)', () => {
    for (const url of ['redis://u:Pa/ss-SECRET@host:6379', 'redis://:p@ss-SECRET@127.0.0.1']) {
      for (const options of [{ url }, { replicaUrls: [url] }]) {
        let error: unknown;
        try {
          resolveOptions(options);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toContain('percent-encode the password');
        expect((error as Error).message).not.toMatch(/SECRET|ss-|host|127\.0\.0\.1/);
      }
    }
  });
  it('picks the mode and inherits replica credentials', () => {
    expect(resolveOptions({}).mode).toBe('single');
    const r = resolveOptions({ url: 'redis://:pw@p:1', replicaUrls: ['redis://r:2'], readFrom: 'replica' });
    expect(r.mode).toBe('replicas');
    expect(r.replicas[0]!.password).toBe('pw');
    expect(resolveOptions({ sentinels: [{ host: 'h', port: 1 }] }).mode).toBe('sentinel');
    expect(resolveOptions({ clusterNodes: [{ host: 'h', port: 1 }] }).mode).toBe('cluster');
    // Sentinel xor Cluster, as with REDIS_SENTINELS and REDIS_CLUSTER_NODES (topology-rules.test.ts).
    expect(() =>
      resolveOptions({ clusterNodes: [{ host: 'h', port: 1 }], sentinels: [{ host: 'h', port: 1 }] }),
    ).toThrow(ConfigError);
    expect(resolveOptions({ readYourWritesMs: '5s' }).readYourWritesMs).toBe(5000);
    expect(() => resolveOptions({ readFrom: 'nearest' as 'primary' })).toThrow(ConfigError);
    expect(() => resolveOptions({ commandTimeoutMs: -1 })).toThrow(ConfigError);
  });
  it('refuses durableWrites.timeoutMs at or above commandTimeoutMs (WAIT would be taken for a dead connection)', () => {
    expect(() => resolveOptions({ commandTimeoutMs: 500, durableWrites: { replicas: 1, timeoutMs: 500 } })).toThrow(
      /durableWrites\.timeoutMs: 500 \(must be below commandTimeoutMs, 500\)/,
    );
    expect(
      resolveOptions({ commandTimeoutMs: 500, durableWrites: { replicas: 1, timeoutMs: 100 } }).durableWrites,
    ).toEqual({
      replicas: 1,
      timeoutMs: 100,
    });
  });
  it('escapes glob characters in SCAN patterns', () => {
    expect(scanPattern('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f*');
  });
});

describe('read router', () => {
  const client = (status: string) => ({ status }) as unknown as Redis;
  it('pins recently written keys to the primary for the window, then reads replicas round-robin', () => {
    let now = 1000;
    const primary = client('ready');
    const r1 = client('ready');
    const r2 = client('ready');
    const router = new ReadRouter(primary, [r1, r2], 2000, () => now);
    expect(router.clientFor('a')).toBe(r1);
    expect(router.clientFor('a')).toBe(r2);
    router.wrote('a');
    expect(router.clientFor('a')).toBe(primary);
    expect(router.clientForAll(['b', 'a'])).toBe(primary);
    expect(router.clientFor('b')).not.toBe(primary);
    now += 2001;
    expect(router.clientFor('a')).not.toBe(primary);
    router.wroteAll();
    expect(router.clientFor('zzz')).toBe(primary);
  });
  it('falls back to the primary when no replica is connected', () => {
    const primary = client('ready');
    const router = new ReadRouter(primary, [client('reconnecting'), client('connecting')], 2000);
    expect(router.clientFor('a')).toBe(primary);
  });
  it('forgets expired keys', () => {
    let now = 0;
    const router = new ReadRouter(client('ready'), [client('ready')], 10, () => now);
    for (let i = 0; i < 100; i++) router.wrote(`k${i}`);
    now = 100;
    router.wrote('last');
    expect(router.trackedKeys).toBe(1);
  });
  it('a key written again keeps its later window; the rest of its queue is skipped, not kept', () => {
    let now = 0;
    const primary = client('ready');
    const router = new ReadRouter(primary, [client('ready')], 10, () => now);
    for (let i = 0; i < 50_000; i++) {
      now = i / 1000; // 50 s of writes to the same 3 keys, one 10 ms window
      router.wrote(`k${i % 3}`);
    }
    expect(router.trackedKeys).toBe(3);
    router.wrote('a');
    now += 5;
    router.wrote('a');
    now += 6; // past the first write's window, within the second's
    router.wrote('b');
    expect(router.clientFor('a')).toBe(primary);
    now += 5;
    expect(router.clientFor('a')).not.toBe(primary);
  });
  it(`past ${MAX_TRACKED_KEYS.toLocaleString('en')} keys it forgets the oldest and reads everything from the primary until its window ends`, () => {
    let now = 0;
    const primary = client('ready');
    const router = new ReadRouter(primary, [client('ready')], 1000, () => now);
    for (let i = 0; i <= MAX_TRACKED_KEYS; i++) router.wrote(`k${i}`);
    expect(router.trackedKeys).toBe(MAX_TRACKED_KEYS);
    expect(router.clientFor('never-written')).toBe(primary);
    now = 1001;
    expect(router.clientFor('never-written')).not.toBe(primary);
  });
});
