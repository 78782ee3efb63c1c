import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// `rememberWithStatus` reports every hit's age on Redis: from the entry's metadata header.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rememberWithStatus on Redis', () => {
  let server: RedisServer;
  let cache: Cache;

  beforeAll(async () => {
    server = await startRedis();
    cache = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'age:' });
  });
  afterAll(async () => {
    await cache?.close();
    await server?.stop();
  });

  it('a hit and a graced value report their age since the write', async () => {
    expect(await cache.rememberWithStatus('k', '1m', () => ({ a: 1 }))).toMatchObject({ status: 'miss', ageMs: 0 });
    await sleep(40);
    const hit = await cache.rememberWithStatus('k', '1m', () => ({ a: 2 }));
    expect(hit).toMatchObject({ value: { a: 1 }, status: 'hit', tier: 'l2' });
    expect(hit.ageMs).toBeGreaterThanOrEqual(35);
    expect(hit.ageMs).toBeLessThan(5000);
    await cache.rememberWithStatus('g', 30, () => 1, { grace: '1m' });
    await sleep(60);
    const graced = await cache.rememberWithStatus('g', 30, () => 2, { grace: '1m' });
    expect(graced.status).toBe('graced');
    expect(graced.ageMs).toBeGreaterThanOrEqual(55);
  });
});
