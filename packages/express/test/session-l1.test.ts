// Sessions on a tiered store (docs/architecture.md "Two tiers"): an L1 with Redis tracking in front of the
// session cache of two app instances.
import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor, watchRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './fixtures/session-app';

type App = Awaited<ReturnType<typeof buildApp>>;

/**
 * The commands the server runs that name a key of the session cache (`sl1:...`), seen with MONITOR.
 * The L1 fleet's own lease renewals (keys under `__larder:fleet:`, on a timer, whatever the requests
 * do) are not the requests' cost: a slow run renews more often.
 */
async function watchCommands(server: RedisServer) {
  const monitor = await watchRedis(server);
  const ours = (args: string[]) => args.some((arg) => arg.startsWith('sl1:'));
  let markers = 0;
  return {
    /** Session-cache commands seen up to now: a marker command is sent and awaited in the monitor's feed first. */
    async count(): Promise<number> {
      const marker = `sl1:marker-${++markers}`;
      await server.command('GET', marker);
      await waitFor(() => monitor.seen.some(({ args }) => args.includes(marker)));
      return monitor.seen.filter(({ args }) => ours(args) && !args.some((arg) => arg.startsWith('sl1:marker-'))).length;
    },
    stop: () => monitor.close(),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the fixture's routes
type Body = any;

async function call(
  app: App,
  method: string,
  path: string,
  cookie?: string,
): Promise<{ status: number; body: Body; cookie?: string }> {
  const res = await fetch(`http://127.0.0.1:${app.port}${path}`, { method, headers: cookie ? { cookie } : {} });
  return { status: res.status, body: await res.json(), cookie: res.headers.getSetCookie()[0]?.split(';')[0] };
}

describe('sessions on a tiered store (L1 + Redis tracking)', () => {
  let server: RedisServer;
  let caches: Cache[] = [];
  let apps: App[] = [];

  beforeAll(async () => {
    server = await startRedis();
    caches = [0, 1].map(
      () =>
        new Cache({ store: createRedisStore({ url: server.url }), prefix: 'sl1', l1: { invalidation: 'tracking' } }),
    );
    for (const cache of caches) await waitFor(async () => (await cache.describeL1())?.state === 'up');
    apps = await Promise.all(caches.map((cache) => buildApp(cache)));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await Promise.all(caches.map((cache) => cache.close()));
    await server?.stop();
  });

  it('a read-only request on a hot, unchanged session costs 0 backend commands', async () => {
    const [a] = apps as [App, App];
    const login = await call(a, 'POST', '/login?user=ada');
    const cookie = login.cookie as string;
    await call(a, 'GET', '/me', cookie);
    await call(a, 'GET', '/me', cookie);
    const watched = await watchCommands(server);
    try {
      // The watch sees a read of the session cache that misses its L1.
      const start = await watched.count();
      expect(await caches[0]?.get('absent')).toBeUndefined();
      const before = await watched.count();
      expect(before).toBeGreaterThan(start);
      for (let i = 0; i < 20; i++) expect((await call(a, 'GET', '/me', cookie)).body.data.userId).toBe('ada');
      expect(await watched.count()).toBe(before);
    } finally {
      watched.stop();
    }
  });

  it("a session read after another instance's write is not stale once the invalidation arrived", async () => {
    const [a, b] = apps as [App, App];
    const cookie = (await call(a, 'POST', '/login?user=bob')).cookie as string;
    await call(a, 'GET', '/me', cookie);
    await call(b, 'POST', '/set/fromB', cookie);
    await waitFor(async () => (await call(a, 'GET', '/me', cookie)).body.data.fromB === true, { timeoutMs: 2000 });
  });

  it('a save from an instance holding a stale L1 copy merges onto the stored session (compare-and-set reads the store)', async () => {
    const [a, b] = apps as [App, App];
    const cookie = (await call(a, 'POST', '/login?user=cy')).cookie as string;
    for (let round = 0; round < 10; round++) {
      await call(a, 'GET', '/me', cookie);
      // Both change the session at once: A's read may be its L1 copy from before B's write.
      await Promise.all([call(b, 'POST', `/set/b${round}`, cookie), call(a, 'POST', `/set/a${round}`, cookie)]);
    }
    await waitFor(async () => {
      const { data } = (await call(b, 'GET', '/me', cookie)).body;
      return Array.from({ length: 10 }, (_, i) => data[`a${i}`] === true && data[`b${i}`] === true).every(Boolean);
    });
  });
});
