import {
  type ElastiCacheEmulator,
  findFreePort,
  type MemcachedCluster,
  type RedisReplicaSet,
  startElastiCacheEmulator,
  startMemcached,
  startRedisReplicaSet,
} from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { larder } from './helpers';

const PASSWORD = 'doctor-s3cret-pw';

describe('larder CLI', () => {
  let redis: RedisReplicaSet;
  let memcached: MemcachedCluster;
  let emulator: ElastiCacheEmulator;

  beforeAll(async () => {
    [redis, memcached] = await Promise.all([
      startRedisReplicaSet({ replicas: 2, sentinels: 0, password: PASSWORD }),
      startMemcached({ count: 3 }),
    ]);
    emulator = await startElastiCacheEmulator({
      nodes: memcached.nodes.map((n) => ({ host: 'localhost', ip: n.host, port: n.port })),
      version: 7,
    });
    await redis.waitForSync();
  });
  afterAll(async () => {
    await Promise.allSettled([redis?.stop(), memcached?.stop(), emulator?.stop()]);
  });

  it('prints help and rejects unknown commands', async () => {
    expect((await larder(['--help'])).stdout).toContain('doctor');
    expect((await larder(['nope'])).code).toBe(2);
    expect((await larder(['doctor', '--help'])).stdout).toContain('--store');
    expect((await larder(['discover', '--help'])).stdout).toContain('config get cluster');
    expect((await larder(['dynamodb', 'create-tables', '--help'])).stdout).toContain('--cache-table');
  });

  it('doctor succeeds on memory with no environment', async () => {
    const { code, stdout } = await larder(['doctor']);
    expect(code).toBe(0);
    expect(stdout).toContain('[memory] driver memory');
    expect(stdout).toContain('set/get/delete ok');
  });

  it('doctor reports Redis primary + replicas and memcached discovery; secrets redacted', async () => {
    const env = {
      CACHE_DRIVER: 'redis',
      SESSION_DRIVER: 'memcached',
      REDIS_URL: redis.primary.url,
      REDIS_REPLICA_URLS: redis.replicaUrls,
      REDIS_READ_FROM: 'replica',
      MEMCACHED_CONFIG_ENDPOINT: emulator.endpoint,
    };
    expect(redis.primary.url).toContain(PASSWORD);
    const { code, stdout, stderr } = await larder(['doctor'], env);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toContain(PASSWORD);
    expect(stdout).toContain('***');
    expect(stdout).toMatch(/\[redis\] driver redis/);
    expect(stdout).toMatch(/role master, 2 replica\(s\)/);
    expect(stdout).toMatch(/\[memcached\] driver memcached/);
    expect(stdout).toContain(`auto-discovery on ${emulator.endpoint}, config version 7`);
    expect(stdout).toContain('3 node(s)');
    expect(stdout).toMatch(/latency\s+min [\d.]+ ms/);
    expect(stdout).toContain('2 store(s) ok, 0 failed');
  });

  it('doctor fails (exit 1) on an unreachable store and says which', async () => {
    const port = await findFreePort();
    const { code, stdout } = await larder(['doctor', '--timeout', '3000'], {
      CACHE_DRIVER: 'redis',
      REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}`,
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAILED/);
    expect(stdout).toContain('0 store(s) ok, 1 failed');
    expect(stdout).not.toContain(PASSWORD);
  });

  it('doctor exits 2 on invalid configuration, naming the variable', async () => {
    const { code, stderr } = await larder(['doctor'], { CACHE_DRIVER: 'nosuch' });
    expect(code).toBe(2);
    expect(stderr).toContain('CACHE_DRIVER');
  });

  it('discover prints the node list and config version', async () => {
    const { code, stdout } = await larder(['discover', emulator.endpoint]);
    expect(code).toBe(0);
    expect(stdout).toContain('config version 7, 3 node(s)');
    for (const node of memcached.nodes) expect(stdout).toContain(`localhost ${node.host} ${node.port}`);
    const json = await larder(['discover', emulator.endpoint, '--json']);
    expect(JSON.parse(json.stdout).nodes).toHaveLength(3);
  });

  it('discover fails clearly on a plain memcached', async () => {
    const { code, stderr } = await larder(['discover', memcached.nodes[0]?.address as string]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/not an ElastiCache configuration endpoint/);
  });
});
