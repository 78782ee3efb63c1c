import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { commandStats } from './helpers';

/**
 * Redis commands per rate-limit decision, counted by the server (INFO commandstats: the script's
 * own calls included), against the fixed window of rate-limit-redis 6 (the express-rate-limit
 * store): one EVALSHA running PTTL, then INCR — or SET … PX when the counter does not exist.
 * The reference runs here as that script on the same server, so the bound is measured, not typed in.
 */
const REFERENCE = `local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  redis.call('SET', KEYS[1], 1, 'PX', ARGV[1])
  return {1, tonumber(ARGV[1])}
end
return {redis.call('INCR', KEYS[1]), ttl}`;

const total = (stats: Record<string, number>) => Object.values(stats).reduce((sum, calls) => sum + calls, 0);

describe('rate-limit decisions: Redis commands per decision', () => {
  let server: RedisServer;
  let cache: Cache;

  beforeAll(async () => {
    server = await startRedis();
    cache = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'rl:' });
    await cache.get('connected'); // ioredis's ready check (INFO) runs before anything is counted
  });
  afterAll(async () => {
    await cache?.close();
    await server?.stop();
  });

  /** The server's clock (TIME) in ms. */
  const serverMs = async () => {
    const [seconds, micros] = (await server.command('TIME')) as [string, string];
    return Number(seconds) * 1000 + Number(micros) / 1000;
  };

  /** Commands the server ran for `run`, but INFO (the counting's own, and a connection's ready check). */
  const commandsOf = async (run: () => Promise<unknown>): Promise<Record<string, number>> => {
    const before = await commandStats(server);
    await run();
    const after = await commandStats(server);
    const delta: Record<string, number> = {};
    for (const [name, calls] of Object.entries(after)) {
      const d = calls - (before[name] ?? 0);
      if (d > 0 && name !== 'info') delta[name] = d;
    }
    return delta;
  };

  /** 10 keys × 20 decisions each, one at a time: the first on each key creates its counter. */
  const decisions = async (decide: (key: string) => Promise<unknown>, tag: string) => {
    for (let k = 0; k < 10; k++) for (let n = 0; n < 20; n++) await decide(`${tag}:${k}`);
    return 200;
  };

  it('a fixed-window decision sends no more commands than rate-limit-redis: 3 admitted (counter created or not), 4 denied', async () => {
    const sha = String(await server.command('SCRIPT', 'LOAD', REFERENCE));
    const reference = await commandsOf(() =>
      decisions((key) => server.command('EVALSHA', sha, 1, `ref:${key}`, 60_000), 'ref'),
    );
    const limiter = cache.rateLimiter({ limit: 1000, window: '1m' });
    await limiter.hit('warm-up'); // loads the script (NOSCRIPT, then EVAL): not a steady decision
    const admitted = await commandsOf(() =>
      decisions(async (key) => expect((await limiter.hit(key)).allowed).toBe(true), 'ok'),
    );
    expect(reference).toEqual({ evalsha: 200, pttl: 200, set: 10, incr: 190 });
    expect(total(reference) / 200).toBe(3);
    expect(total(admitted) / 200).toBeLessThanOrEqual(total(reference) / 200);
    // PTTL, then SET … PX on the 10 new counters and INCRBY on the others.
    expect(admitted).toEqual({ evalsha: 200, pttl: 200, set: 10, incrby: 190 });

    // Past the limit a hit is counted and taken back (DECRBY), so that it is never seen: one
    // command more than admitting. rate-limit-redis counts every hit instead (3).
    const tight = cache.rateLimiter({ limit: 5, window: '1m', name: 'tight' });
    for (let n = 0; n < 5; n++) await tight.hit('full');
    const denied = await commandsOf(async () => {
      for (let n = 0; n < 50; n++) expect((await tight.hit('full')).allowed).toBe(false);
    });
    expect(denied).toEqual({ evalsha: 50, pttl: 50, incrby: 50, decrby: 50 });
  });

  it('sliding: an admitted hit reads TIME once and the list head once, and no stamp back (its reset is a window)', async () => {
    const limiter = cache.rateLimiter({ limit: 1000, window: '1m', algorithm: 'sliding' });
    await limiter.hit('warm-up');
    const admitted = await commandsOf(() =>
      decisions(async (key) => {
        const decision = await limiter.hit(key);
        expect(decision.allowed).toBe(true);
        expect(decision.resetMs).toBe(60_000);
      }, 'sl'),
    );
    expect(admitted).toEqual({ evalsha: 200, time: 200, lindex: 200, llen: 200, rpush: 200, pexpire: 200 });
  });

  it('sliding: stale stamps leave in one LPOP per 32, read with LRANGE, and the count stays exact', async () => {
    const limiter = cache.rateLimiter({ limit: 100, window: '2s', algorithm: 'sliding' });
    const waitUntil = (ms: number) =>
      waitFor(async () => (await serverMs()) >= ms, { timeoutMs: 20_000, intervalMs: 20 });
    expect((await limiter.hit('aging', { cost: 70 })).allowed).toBe(true);
    // Half a window later one more stamp (the list's expiry moves with it); half a window after
    // that (on the server's clock) the first 70 are stale and the newest is not.
    const first = await serverMs();
    await waitUntil(first + 1000);
    expect((await limiter.hit('aging')).allowed).toBe(true);
    await waitUntil(first + 2050);
    const aged = await commandsOf(async () => {
      expect(await limiter.hit('aging')).toMatchObject({ allowed: true, remaining: 98 });
    });
    // 70 stale and 1 live: LRANGE of 32 (all stale: LPOP 32), 32 more (LPOP 32), 7 (LPOP 6: done).
    expect(aged).toMatchObject({ evalsha: 1, lindex: 1, lrange: 3, lpop: 3, llen: 1, rpush: 1 });
    expect(await limiter.peek('aging')).toMatchObject({ allowed: true, remaining: 98 });
  });
});
