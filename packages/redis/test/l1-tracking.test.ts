import { spawnSync } from 'node:child_process';
import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { readCalls } from './helpers';

const tiered = (url: string, prefix = 'l1t', invalidation: 'tracking' | 'bus' = 'tracking') =>
  new Cache({
    store: createRedisStore({ url }),
    prefix,
    l1: { invalidation, ...(invalidation === 'bus' ? { busUrl: url } : {}) },
  });

const up = async (cache: Cache) => {
  await waitFor(async () => (await cache.describeL1())?.state === 'up', { description: 'L1 up' });
};

describe('L1 with Redis tracking', () => {
  let server: RedisServer;
  let reader: Cache;
  let writer: Cache;

  beforeAll(async () => {
    server = await startRedis();
    reader = tiered(server.url);
    writer = tiered(server.url);
    await up(reader);
    await up(writer);
  });
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await server?.stop();
  });

  it('answers a hot key with 0 backend commands', async () => {
    await writer.set('hot', { a: 1 });
    await waitFor(async () => (await reader.get('hot')) !== undefined);
    await reader.get('hot');
    const before = await readCalls(server);
    for (let i = 0; i < 100; i++) expect(await reader.get('hot')).toEqual({ a: 1 });
    expect(await readCalls(server)).toBe(before);
    expect(reader.stats().tiers?.l1).toBeGreaterThanOrEqual(100);
  });

  it('has() on a key the L1 holds sends no command; on one it does not, it asks Redis', async () => {
    await writer.set('has', { a: 1 });
    await waitFor(async () => (await reader.get('has')) !== undefined);
    const before = await readCalls(server);
    for (let i = 0; i < 50; i++) expect(await reader.has('has')).toBe(true);
    expect(await readCalls(server)).toBe(before);
    expect(await reader.has('has-not-held')).toBe(false);
    expect(await readCalls(server)).toBe(before + 1);
    await writer.delete('has');
    await waitFor(async () => !(await reader.has('has')), { timeoutMs: 2000, description: 'has() false after delete' });
  });

  it("sees another instance's write once the invalidation arrived", async () => {
    await writer.set('k', 1);
    expect(await reader.get('k')).toBe(1);
    expect(await reader.get('k')).toBe(1);
    await writer.set('k', 2);
    await waitFor(async () => (await reader.get('k')) === 2, { timeoutMs: 2000, description: 'new value' });
    await writer.delete('k');
    await waitFor(async () => (await reader.get('k')) === undefined, { timeoutMs: 2000, description: 'deleted' });
  });

  it('sees writes by a plain redis-cli', async () => {
    await writer.set('cli', 'before');
    expect(await reader.get('cli')).toBe('before');
    const cli = spawnSync('redis-cli', ['-p', String(server.port), 'SET', 'l1t:cli', '"after"'], { encoding: 'utf8' });
    expect(cli.stdout.trim()).toBe('OK');
    await waitFor(async () => (await reader.get('cli')) === 'after', { timeoutMs: 2000, description: 'cli write' });
  });

  it('flushes and bypasses when the invalidation connection is killed, and re-arms', async () => {
    await writer.set('kill', 'v1');
    await reader.get('kill');
    const flushesBefore = (await reader.describeL1())?.flushes ?? 0;
    // Kill every pub/sub connection (the subscribers of both caches).
    await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(async () => ((await reader.describeL1())?.flushes ?? 0) > flushesBefore, { timeoutMs: 3000 });
    await writer.set('kill', 'v2');
    expect(await reader.get('kill')).toBe('v2');
    await up(reader);
    await up(writer);
    expect(await reader.get('kill')).toBe('v2');
    await writer.set('kill', 'v3');
    await waitFor(async () => (await reader.get('kill')) === 'v3', { timeoutMs: 2000 });
  });

  it('drops everything on FLUSHALL', async () => {
    await writer.set('f', 1);
    expect(await reader.get('f')).toBe(1);
    await server.command('FLUSHALL');
    await waitFor(async () => (await reader.get('f')) === undefined, { timeoutMs: 2000 });
  });

  it('remember does not write over a value set while its loader ran', async () => {
    let release: () => void = () => {};
    const loading = reader.remember('r', '1m', async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return 'loader';
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writer.set('r', 'newer');
    release();
    expect(await loading).toBe('loader');
    await waitFor(async () => (await reader.get('r')) === 'newer', { timeoutMs: 2000 });
    expect(await writer.get('r')).toBe('newer');
  });

  it('closing a tiered cache closes its tracking connections (40 create/close)', async () => {
    const clients = async () =>
      Number(/connected_clients:(\d+)/.exec(String(await server.command('INFO', 'clients')))?.[1]);
    const before = await clients();
    for (let i = 0; i < 40; i++) {
      const cache = tiered(server.url, 'churn');
      await up(cache);
      await cache.close();
    }
    await waitFor(async () => (await clients()) <= before, { timeoutMs: 5000, description: 'connections closed' });
  });

  it('works with the bus on Redis too, ignoring its own messages', async () => {
    const a = tiered(server.url, 'l1b', 'bus');
    const b = tiered(server.url, 'l1b', 'bus');
    try {
      await up(a);
      await up(b);
      await a.set('k', 1);
      expect(await b.get('k')).toBe(1);
      await a.set('k', 2);
      await waitFor(async () => (await b.get('k')) === 2, { timeoutMs: 2000 });
      expect((await b.describeL1())?.invalidation).toBe('bus');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('L1 through a manager (CACHE_L1=on)', () => {
  it('builds tiered default and session stores from the environment and closes their tracking on close', async () => {
    const { configFromEnv, createCacheManager } = await import('@larder/core');
    const { larderEnv } = await import('../src/env');
    const { larderDriver } = await import('../src/index');
    const server = await startRedis();
    try {
      const config = configFromEnv(
        { CACHE_STORE: 'redis', REDIS_URL: server.url, CACHE_L1: 'on', CACHE_L1_MAX_ENTRIES: '100' },
        { environments: [larderEnv] },
      );
      const manager = createCacheManager(config);
      manager.extend('redis', larderDriver);
      const cache = manager.store();
      await up(cache);
      expect(await cache.describeL1()).toMatchObject({ invalidation: 'tracking', maxEntries: 100 });
      await up(manager.sessionStore());
      const clients = async () =>
        Number(/connected_clients:(\d+)/.exec(String(await server.command('INFO', 'clients')))?.[1]);
      // The store's command connection (it tracks), one subscriber for both L1s of the shared store, this INFO.
      expect(await clients()).toBe(3);
      await manager.close();
      await waitFor(async () => (await clients()) <= 1, { timeoutMs: 5000, description: 'every connection closed' });
    } finally {
      await server.stop();
    }
  });
});
