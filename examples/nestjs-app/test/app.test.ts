import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNestApp } from '../src/create-app';

interface Backend {
  name: string;
  env(): Promise<Record<string, string>>;
  /** Whether `key` (full, with larder's prefix) is stored on the backend. */
  stored(key: string, app: Awaited<ReturnType<typeof createNestApp>>): Promise<boolean>;
  stop(): Promise<void>;
}

let redis: RedisServer | undefined;
const backends: Backend[] = [
  {
    name: 'memory',
    env: async () => ({ CACHE_DRIVER: 'memory' }),
    // The memory store lives in the app: ask it for the full key, as EXISTS does on Redis (a
    // prefix-less cache would judge the entry's scope against counters under another prefix).
    stored: async (key, { caches }) => (await (await caches.store().getStore()).get(key)) !== undefined,
    stop: async () => {},
  },
  {
    name: 'redis',
    env: async () => {
      redis = await startRedis();
      return { CACHE_DRIVER: 'redis', REDIS_URL: redis.url };
    },
    stored: async (key) => (await redis?.command('EXISTS', key)) === 1,
    stop: async () => redis?.stop(),
  },
];

for (const backend of backends) {
  describe(`NestJS example over real HTTP: ${backend.name}`, () => {
    let nest: Awaited<ReturnType<typeof createNestApp>>;
    let url: string;
    // biome-ignore lint/suspicious/noExplicitAny: the routes' JSON bodies
    const json = async (path: string): Promise<any> => (await fetch(`${url}${path}`)).json();

    beforeAll(async () => {
      nest = await createNestApp(await backend.env(), { logger: false });
      await nest.app.listen(0, '127.0.0.1');
      url = (await nest.app.getUrl()).replace('[::1]', '127.0.0.1');
    });
    afterAll(async () => {
      await nest?.close();
      await backend.stop();
    });

    it("CacheInterceptor: the second request is served from the cache, stored under larder's prefix", async () => {
      const first = await json('/products/7');
      expect(first).toMatchObject({ id: 7, name: 'product 7' });
      // The interceptor stores the response after sending it: wait for the key.
      await waitFor(() => backend.stored('larder:keyv:/products/7', nest), { description: 'the cached response' });
      expect(await json('/products/7')).toEqual(first);
      expect((await json('/stats')).loads.product).toBe(1);
    });

    it('CACHE_MANAGER.wrap in a service builds the report once', async () => {
      const first = await json('/report');
      expect(await json('/report')).toEqual(first);
      expect((await json('/stats')).loads.report).toBe(1);
      expect(await backend.stored('larder:keyv:report', nest)).toBe(true);
    });
  });
}
