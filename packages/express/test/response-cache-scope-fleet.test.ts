import { Cache } from '@larder/core';
import { type FaultProxy, startFaultProxy } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFor, rcBackends, type Served, serve, until, untilHit } from './response-cache-harness';

// Issue 40, one group-invalidation mechanism: a URL's invalidation is the drop of its scope, so
// it carries the hard invalidation's guarantee (the L1 fleet barrier) to every instance. Instance
// B hears its invalidation bus through a proxy adding 25 ms each way, so the news of A's invalidation reaches
// B's L1 well after A's response reaches its client, unless A waits for B (the barrier).
const env = rcBackends();
let proxy: FaultProxy | undefined;
beforeAll(async () => {
  await env.start();
  const redis = env.redis();
  proxy = await startFaultProxy({ target: { host: redis.host, port: redis.port } });
  proxy.setFault({ kind: 'latency', ms: 25 });
});
afterAll(async () => {
  await proxy?.close();
  await env.stop();
});

/** Two instances of one app on one prefix, each with an L1 (Redis tracking); B's Redis is behind the proxy. */
async function twoInstances(
  routes: (app: express.Express, rc: ReturnType<typeof cacheFor>) => void,
): Promise<{ a: Served; b: Served; caches: Cache[]; close(): Promise<void> }> {
  const url = new URL(env.redis().url);
  const prefix = `rcs-${process.pid}-${Math.random().toString(36).slice(2)}:`;
  const viaProxy = new URL(url);
  viaProxy.host = `${proxy?.host}:${proxy?.port}`;
  // B's invalidation bus (not its store) is behind the proxy: the news of A's writes comes late.
  const caches = [url, viaProxy].map(
    (bus) =>
      new Cache({
        store: createRedisStore({ url: url.href }),
        prefix,
        timeout: '3s',
        l1: { invalidation: 'bus', busUrl: bus.href },
      }),
  );
  const served = await Promise.all(
    caches.map((cache) => {
      const app = express();
      routes(app, cacheFor({ cache, ttl: '1m' }));
      return serve(app);
    }),
  );
  const [a, b] = served as [Served, Served];
  return {
    a,
    b,
    caches,
    async close() {
      await Promise.all(served.map((one) => one.close()));
      await Promise.all(caches.map((cache) => cache.close()));
    },
  };
}

describe('responseCache invalidation on two instances with an L1 (Redis tracking)', () => {
  it("after an unsafe request's response on one instance, the other never serves the old entry", async () => {
    let version = 0;
    const { a, b, close, caches } = await twoInstances((app, rc) => {
      app.get('/doc', rc, (_req, res) => {
        res.send(`v${version}`);
      });
      app.put('/doc', rc, (_req, res) => {
        version++;
        res.send(`v${version}`);
      });
    });
    let stale = 0;
    try {
      // B's L1 serves once its lease is held (over the slow channel).
      const l1Hits = () => (caches[1] as Cache).stats().tiers?.l1 ?? 0;
      await until(async () => (await b.get('/doc')) !== undefined && l1Hits() > 0, 5000, "B's L1 to serve");
      for (let i = 0; i < 10; i++) {
        // B holds the entry (in its L1 too), then A answers a PUT: B's next GET sees it.
        await untilHit(b, '/doc');
        const put = await a.request('/doc', { method: 'PUT' });
        if ((await b.get('/doc')).text !== put.text) stale++;
      }
      // Before scopes: 8 of 10 stale (B's L1 kept the old generation until the news came).
      expect(stale).toBe(0);
    } finally {
      await close();
    }
  });
});
