import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisReplyError, type RedisServer, redisCommand, redisCommandStats, startRedis } from '../src/index';

describe('startRedis', () => {
  const servers: RedisServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('starts a redis-server on a free port below 32768, answers, survives kill/restart on the same port, stops', async () => {
    const redis = await startRedis();
    servers.push(redis);
    expect(redis.port).toBeGreaterThanOrEqual(20_000);
    expect(redis.port).toBeLessThan(32_768);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await redis.command('SET', 'k', 'v')).toBe('OK');
    expect(await redis.command('GET', 'k')).toBe('v');
    const pid = redis.pid!;
    await redis.kill();
    expect(redis.pid).toBeUndefined();
    await expect(redis.command('PING')).rejects.toThrow();
    await redis.restart();
    expect(redis.pid).not.toBe(pid);
    expect(await redis.command('PING')).toBe('PONG');
    await redis.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(redisCommand({ host: '127.0.0.1', port: redis.port }, 'PING')).rejects.toThrow();
  });

  it('redisCommandStats counts the calls of each command, subcommands and script calls included', async () => {
    const redis = await startRedis();
    servers.push(redis);
    const before = await redisCommandStats(redis);
    expect(before.set).toBeUndefined();
    for (let i = 0; i < 3; i++) await redis.command('SET', `k${i}`, 'v');
    await redis.command('EVAL', "return redis.call('GET', KEYS[1])", 1, 'k0');
    await redis.command('CLIENT', 'GETNAME');
    const stats = await redisCommandStats(redis);
    expect(stats).toMatchObject({ set: 3, get: 1, eval: 1, 'client|getname': 1, info: (before.info ?? 0) + 1 });
    await redis.stop();
  });

  it('requirepass and ACL users', async () => {
    const withPass = await startRedis({ password: 'pw1' });
    const withUser = await startRedis({ username: 'app', password: 'pw2' });
    servers.push(withPass, withUser);
    expect(withPass.url).toBe(`redis://:pw1@127.0.0.1:${withPass.port}`);
    expect(withUser.url).toBe(`redis://app:pw2@127.0.0.1:${withUser.port}`);
    expect(await withUser.command('ACL', 'WHOAMI')).toBe('app');
    await expect(redisCommand({ host: '127.0.0.1', port: withPass.port }, 'GET', 'x')).rejects.toThrow(/NOAUTH/);
    await expect(
      redisCommand({ host: '127.0.0.1', port: withUser.port, password: 'wrong', username: 'app' }, 'PING'),
    ).rejects.toBeInstanceOf(RedisReplyError);
  });

  it('TLS: generates a CA, serves rediss:// only', async () => {
    const redis = await startRedis({ tls: true });
    servers.push(redis);
    expect(redis.url).toBe(`rediss://127.0.0.1:${redis.port}`);
    expect(redis.caPath).toMatch(/ca\.crt$/);
    expect(await redis.command('PING')).toBe('PONG');
    // A client that does not trust the CA is refused.
    await expect(
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: redis.port, servername: 'localhost' }, () => resolve(socket));
        socket.on('error', reject);
      }),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    // With the CA it verifies (hostname 127.0.0.1 is in the SAN).
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: redis.port, ca: readFileSync(redis.caPath!) }, () => {
        socket.end();
        resolve();
      });
      socket.on('error', reject);
    });
  });
});
