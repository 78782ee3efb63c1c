import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Peer, startPeer } from './peers';

/**
 * Value reads the server has executed (INFO commandstats: GET and MGET, the commands an untagged
 * read sends). The L1 fleet's lease renewals run on a timer whatever the reads do (a compare-and-set
 * script every lease/3): they are not the reads' cost.
 */
async function readCalls(server: RedisServer): Promise<number> {
  const text = String(await server.command('INFO', 'commandstats'));
  let calls = 0;
  for (const match of text.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g))
    if (match[1] === 'get' || match[1] === 'mget') calls += Number(match[2]);
  return calls;
}

describe('two processes on Redis with CACHE_L1=on, through cache-manager over createKeyv', () => {
  let server: RedisServer;
  let writer: Peer;
  let reader: Peer;
  beforeAll(async () => {
    server = await startRedis();
    const env = {
      CACHE_DRIVER: 'redis',
      REDIS_URL: server.url,
      CACHE_L1: 'on',
      CACHE_PREFIX: `kv-peers-${process.pid}:`,
    };
    [writer, reader] = await Promise.all([startPeer(env), startPeer(env)]);
    for (const peer of [writer, reader]) {
      await waitFor(async () => (await peer.call('l1State')) === 'up', { description: 'L1 up' });
    }
  });
  afterAll(async () => {
    await Promise.all([writer?.stop(), reader?.stop()]);
    await server?.stop();
  });

  it('a write in one is seen by the other at once; 50 reads of an unchanged key are answered by its L1 (at most 5 reach Redis while a renewal is overdue)', async () => {
    await writer.call('set', 'user:1', { name: 'Ada', v: 1 });
    expect(await reader.call('get', 'user:1')).toEqual({ name: 'Ada', v: 1 });

    const before = await readCalls(server);
    for (let i = 0; i < 50; i++) expect(await reader.call('get', 'user:1')).toEqual({ name: 'Ada', v: 1 });
    // The L1 answers them all unless its lease renewal is overdue (a loaded machine's late timer):
    // then it reads the store until the renewal is answered (docs/architecture.md, "The barrier: lease and fence").
    expect(await readCalls(server)).toBeLessThanOrEqual(before + 5);

    await writer.call('set', 'user:1', { name: 'Ada', v: 2 });
    // The invalidation travels Redis -> reader on its own connection: wait for it (milliseconds).
    await waitFor(async () => ((await reader.call('get', 'user:1')) as { v: number }).v === 2, {
      timeoutMs: 2000,
      intervalMs: 1,
      description: 'the new value in the other process',
    });

    await writer.call('del', 'user:1');
    await waitFor(async () => (await reader.call('get', 'user:1')) === undefined, {
      timeoutMs: 2000,
      intervalMs: 1,
      description: 'the delete in the other process',
    });
  });
});
