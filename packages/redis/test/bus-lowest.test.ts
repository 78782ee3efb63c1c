import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore } from '../src/index';

// The L1 bus on the lowest ioredis the peer range allows (dev-dependency alias `ioredis-lowest`).
vi.mock('ioredis', () => import('ioredis-lowest'));

describe('the L1 bus on ioredis 5.4.1', () => {
  let server: RedisServer;
  const caches: Cache[] = [];

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await server?.stop();
  });

  it('comes up, carries an invalidation and completes a barrier', async () => {
    for (let i = 0; i < 2; i++)
      caches.push(
        new Cache({
          store: createRedisStore({ url: server.url }),
          prefix: 'low:',
          l1: { invalidation: 'bus', busUrl: server.url },
        }),
      );
    await Promise.all(
      caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up', { timeoutMs: 5000 })),
    );
    const [writer, reader] = caches as [Cache, Cache];
    await writer.set('k', 1);
    expect(await reader.get('k')).toBe(1);
    await writer.set('k', 2);
    await waitFor(async () => (await reader.get('k')) === 2, { timeoutMs: 5000 });
    await writer.tags(['t']).set('tagged', 1);
    expect(await reader.get('tagged')).toBe(1);
    await writer.invalidateTags(['t']);
    expect(await reader.get('tagged')).toBeUndefined();
  });

  it('runs commands on a second connection, and comes back up after losing it', async () => {
    const [writer, reader] = caches as [Cache, Cache];
    const busConnections = async () =>
      String(await server.command('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => / name=larder-bus /.test(line));
    const idsOf = (lines: string[]) => lines.map((line) => /\bid=(\d+)/.exec(line)![1]!);
    const before = await busConnections();
    // Each instance: one subscribed connection (RESP2 cannot run commands on it) and one for commands.
    expect(before.filter((line) => / sub=1 /.test(line))).toHaveLength(2);
    const commands = before.filter((line) => / sub=0 /.test(line));
    expect(commands).toHaveLength(2);
    expect(before.join('\n')).not.toMatch(/resp=3/);
    for (const id of idsOf(commands)) await server.command('CLIENT', 'KILL', 'ID', id);
    // Each bus drops its subscribed connection too, connects again and opens a new commands' connection.
    await waitFor(
      async () => {
        const now = await busConnections();
        const fresh = idsOf(now).filter((id) => !idsOf(before).includes(id));
        const up = await Promise.all(caches.map(async (cache) => (await cache.describeL1())?.state === 'up'));
        return fresh.length === 4 && up.every(Boolean);
      },
      { timeoutMs: 5000 },
    );
    await writer.set('after', 1);
    expect(await reader.get('after')).toBe(1);
    await writer.set('after', 2);
    await waitFor(async () => (await reader.get('after')) === 2, { timeoutMs: 5000 });
  });
});
