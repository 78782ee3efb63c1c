import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { createCache } from 'cache-manager';
import { Keyv as Keyv6 } from 'keyv6';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyv, KeyvLarder } from '../src/index';

const TIMEOUT_MS = 300;
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 400;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe('Redis killed under cache-manager over createKeyv', () => {
  let server: RedisServer;
  let cache: Cache;
  beforeAll(async () => {
    server = await startRedis();
    cache = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'kv-outage:', timeout: TIMEOUT_MS });
  });
  afterAll(async () => {
    await cache?.close();
    await server?.stop();
  });

  it('get settles within the timeout and wrap returns the loader value; caching resumes by itself', async () => {
    const manager = createCache({ stores: [createKeyv(cache)] });
    const keyv6 = createKeyv(cache, { keyv: Keyv6, namespace: 'k6' });
    // Keyv 6 with no `error` listener throws where Keyv emits: why createKeyv attaches one.
    const bare = new Keyv6({ store: new KeyvLarder(cache, { contract: 6 }), serialization: false });
    await manager.set('k', 'v');
    let calls = 0;
    const loader = async () => {
      calls += 1;
      return { fresh: calls };
    };

    await server.kill();
    const get = await timed(() => manager.get('k'));
    expect(get.value).toBeUndefined();
    expect(get.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    // wrap: one bounded get, the loader, one bounded set.
    const wrap = await timed(() => manager.wrap('w', loader, 60_000));
    expect(wrap.value).toEqual({ fresh: 1 });
    expect(wrap.ms).toBeLessThan(2 * TIMEOUT_MS + SLACK_MS);
    expect(await keyv6.get('x')).toBeUndefined();
    expect(await keyv6.set('x', 1)).toBe(false);
    await expect(bare.get('x')).rejects.toThrow(/timed out|closed|connect/i);

    await server.restart();
    await waitFor(
      async () => {
        await manager.set('probe', 1);
        return (await manager.get('probe')) === 1;
      },
      { timeoutMs: 10_000, description: 'cache-manager writes and reads again' },
    );
    expect(await manager.wrap('r', loader, 60_000)).toEqual({ fresh: 2 });
    expect(await manager.wrap('r', loader, 60_000)).toEqual({ fresh: 2 });
    expect(calls).toBe(2);
    expect(await keyv6.set('x', 1)).toBe(true);
    expect(await keyv6.get('x')).toBe(1);
  });
});
