import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { activeResources, processListeners } from '@larder/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

const CHURN = Number(process.env.LARDER_L1_CHURN ?? 1000);

describe('L1 with Redis tracking: create and close', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const connections = async () =>
    String(await server.command('CLIENT', 'LIST'))
      .trim()
      .split('\n').length;

  it(`${CHURN} tiered caches created, used and closed: no listener, handle, timer or connection left`, async () => {
    const warm = new Cache({
      store: createRedisStore({ url: server.url }),
      prefix: 'warm',
      l1: { invalidation: 'tracking' },
    });
    await waitFor(async () => (await warm.describeL1())?.state === 'up', { description: 'L1 up' });
    await warm.set('k', 1);
    await warm.close();
    await waitFor(async () => (await connections()) === 1, { timeoutMs: 5000, description: 'warm-up closed' });
    const listeners = processListeners();
    const resources = activeResources();
    const started = performance.now();
    for (let i = 0; i < CHURN; i++) {
      const cache = new Cache({
        store: createRedisStore({ url: server.url }),
        prefix: 'churn',
        l1: { invalidation: 'tracking' },
      });
      await waitFor(async () => (await cache.describeL1())?.state === 'up', { intervalMs: 1, description: 'L1 up' });
      await cache.set('k', i);
      await cache.get('k');
      expect(await cache.get('k')).toBe(i);
      // The write filled the L1: both reads are L1 hits.
      expect((await cache.describeL1())?.hits).toBe(2);
      await cache.close();
    }
    const elapsed = performance.now() - started;
    console.log(`l1 churn: ${CHURN} tiered Redis caches in ${Math.round(elapsed)} ms`);
    // Only this test's own CLIENT LIST connection is left on the server.
    await waitFor(async () => (await connections()) === 1, { timeoutMs: 5000, description: 'connections closed' });
    // No more of any type than at the start (a socket of the warm-up may still have been closing then).
    const grown = () => Object.entries(activeResources()).filter(([type, n]) => n > (resources[type] ?? 0));
    await waitFor(async () => grown().length === 0, { timeoutMs: 5000, description: 'handles and timers released' });
    expect(grown()).toEqual([]);
    expect(processListeners()).toEqual(listeners);
  }, 120_000);
});
