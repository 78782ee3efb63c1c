import { type RedisServer, startRedis } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandCalls, infoField, readRedisInfo, redisCpuUs } from '../src/redis-counters';

// The fleet bench counts lease renewals as SETs and takes their scripted GETs off the store reads:
// both rest on commandstats counting the commands a Lua script runs under their own names.
describe('readRedisInfo', () => {
  let server: RedisServer;
  let client: Redis;
  let stats: Redis;

  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
    stats = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    stats?.disconnect();
    await server?.stop();
  });

  it('reads several sections in one INFO, and counts the commands a script runs by name', async () => {
    const before = await readRedisInfo(stats, 'stats', 'cpu', 'commandstats');
    await client.set('a', '1');
    await client.eval("redis.call('GET', KEYS[1]); return redis.call('SET', KEYS[1], '2')", 1, 'a');
    await client.mget('a', 'b');
    const after = await readRedisInfo(stats, 'stats', 'cpu', 'commandstats');
    const made = (commands: string[]) => commandCalls(after, commands) - commandCalls(before, commands);
    expect(made(['set'])).toBe(2);
    expect(made(['get'])).toBe(1);
    expect(made(['eval'])).toBe(1);
    expect(made(['get', 'mget'])).toBe(2);
    // The three writes and the INFO between them, at least (the server counts EVAL and its calls once each or more).
    expect(
      infoField(after, 'total_commands_processed') - infoField(before, 'total_commands_processed'),
    ).toBeGreaterThanOrEqual(4);
    expect(redisCpuUs(after)).toBeGreaterThan(0);
    // A field that is not there is NaN, never a silent 0; a command never run has 0 calls.
    expect(infoField(after, 'no_such_field')).toBeNaN();
    expect(commandCalls(after, ['xadd'])).toBe(0);
  });
});
