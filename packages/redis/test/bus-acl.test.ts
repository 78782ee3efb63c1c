import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// The bus asks `CLUSTER SLOTS` to find out whether its Redis is a Cluster (sharded Pub/Sub there):
// a single node whose ACL denies the CLUSTER commands must still carry the bus, as before.

describe('the L1 bus on a single node that denies CLUSTER', () => {
  let server: RedisServer;
  const caches: Cache[] = [];

  beforeAll(async () => {
    server = await startRedis();
    await server.command('ACL', 'SETUSER', 'bus', 'on', '>secret', '~*', '&*', '+@all', '-cluster');
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await server?.stop();
  });

  it('comes up on classic Pub/Sub and carries an invalidation', async () => {
    const busUrl = server.url.replace('redis://', 'redis://bus:secret@');
    for (let i = 0; i < 2; i++)
      caches.push(
        new Cache({
          store: createRedisStore({ url: server.url }),
          prefix: 'acl:',
          l1: { invalidation: 'bus', busUrl },
        }),
      );
    await Promise.all(caches.map((cache) => waitFor(async () => (await cache.describeL1())?.state === 'up')));
    const [writer, reader] = caches as [Cache, Cache];
    await writer.set('k', 1);
    expect(await reader.get('k')).toBe(1);
    await writer.set('k', 2);
    await waitFor(async () => (await reader.get('k')) === 2, { timeoutMs: 5000 });
    // ioredis 6 speaks RESP3: one connection per bus both subscribes and runs commands.
    const bus = String(await server.command('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => / name=larder-bus /.test(line));
    expect(bus).toHaveLength(2);
    expect(bus.every((line) => / sub=1 .* resp=3/.test(line))).toBe(true);
    const denied = String(await server.command('ACL', 'LOG'));
    expect(denied).toContain('cluster');
  });
});
