import { type RedisReplicaSet, startRedisReplicaSet } from '@larder/dev-services';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePool, scenario } from './helpers';

describe('example app on Redis (primary + 2 replicas)', () => {
  let redis: RedisReplicaSet;
  const instances = instancePool();

  beforeAll(async () => {
    redis = await startRedisReplicaSet({ replicas: 2, sentinels: 0 });
    await redis.waitForSync();
  });
  afterAll(async () => {
    await instances.stopAll();
    await redis?.stop();
  });

  it('two instances on different ports share cache and sessions through Redis', async () => {
    const env = { CACHE_DRIVER: 'redis', REDIS_URL: redis.primary.url, CACHE_PREFIX: 'e2e-primary:' };
    const a = await instances.start(env);
    const b = await instances.start(env);
    expect(a.url).not.toBe(b.url);
    await scenario(a, b);
    const health = await request(a.url).get('/healthz').expect(200);
    expect(health.body.cache).toMatchObject({ store: 'redis', driver: 'redis', ok: true });
  });

  it('replica reads never show a stale session after login (read-your-writes)', async () => {
    const env = {
      CACHE_DRIVER: 'redis',
      REDIS_URL: redis.primary.url,
      REDIS_REPLICA_URLS: redis.replicaUrls,
      REDIS_READ_FROM: 'replica',
      CACHE_PREFIX: 'e2e-replica:',
    };
    const app = await instances.start(env);
    await scenario(app);
    // Detach both replicas: from now on they are frozen, stale copies. Every read of a session this
    // process just wrote must still go to the primary.
    for (const replica of redis.replicas) await replica.command('REPLICAOF', 'NO', 'ONE');
    for (let i = 0; i < 5; i++) {
      const login = await request(app.url)
        .post('/login')
        .send({ name: `user${i}` })
        .expect(200);
      const cookie = (login.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
      await request(app.url)
        .get('/me')
        .set('Cookie', cookie)
        .expect(200, { user: `user${i}`, visits: 1 });
      await request(app.url)
        .get('/me')
        .set('Cookie', cookie)
        .expect(200, { user: `user${i}`, visits: 2 });
    }
  });
});
