import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMonitorArgs, type RedisServer, startRedis, waitFor, watchRedis } from '../src/index';

describe('watchRedis (MONITOR on its own connection)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("sees each command once, in order, with its arguments unescaped and a script's own commands marked lua", async () => {
    const monitor = await watchRedis(redis);
    const odd = 'quote " back \\ newline \n tab \t byte \x01 é';
    await redis.command('SET', 'plain', odd);
    await redis.command('EVAL', "return redis.call('GET', KEYS[1])", 1, 'plain');
    await redis.command('ECHO', 'end');
    await waitFor(() => monitor.seen.some(({ args }) => args[0] === 'ECHO'));
    monitor.close();
    const set = monitor.seen.find(({ args }) => args[0] === 'SET');
    // é arrives as its two UTF-8 bytes, escaped by Redis as \xNN each.
    expect(set?.args).toEqual(['SET', 'plain', odd.replace('é', '\xc3\xa9')]);
    expect(set?.source).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(monitor.seen.find(({ args }) => args[0] === 'GET')).toMatchObject({ args: ['GET', 'plain'], source: 'lua' });
    expect(monitor.seen.map(({ args }) => args[0])).toEqual(['SET', 'EVAL', 'GET', 'ECHO']);
  });

  it('parses quoting it did not see from a server', () => {
    expect(parseMonitorArgs('"a" "b c" "\\x41\\"" ""')).toEqual(['a', 'b c', 'A"', '']);
  });
});
