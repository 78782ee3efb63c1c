// The store-down scenarios of the rate limiter on a real backend: frozen (SIGSTOP) and killed,
// each onStoreDown mode deciding within the cache's timeout, saying so, and nothing unhandled.
import { freezeProcess, waitFor } from '@larder/dev-services';
import { expect, it } from 'vitest';
import type { Cache } from '../../src/cache/cache';
import type { RateLimiter, RateLimitStoreDownEvent } from '../../src/rate-limit/limiter';

/** The backend under test. */
export interface OutageBackend {
  /** A cache on the running backend with `timeout: TIMEOUT_MS`. */
  cache(): Cache;
  /** The server's PID (SIGSTOP/SIGCONT). */
  pid(): number;
  kill(): Promise<void>;
  /** Brings a killed server back (omit when restarting takes too long: the kill then runs last). */
  restart?(): Promise<void>;
}

/** The cache timeout of these tests. */
export const TIMEOUT_MS = 300;
// A decision answers within the timeout, plus this much for a loaded 2-core runner.
const SLACK_MS = 700;

async function decideAll(limiters: Record<'closed' | 'open' | 'local', RateLimiter>) {
  const started = performance.now();
  const [closed, open, local] = await Promise.all([
    limiters.closed.hit('k'),
    limiters.open.hit('k'),
    limiters.local.hit('k'),
  ]);
  return { closed, open, local, elapsed: performance.now() - started };
}

/** Waits until the store decides (the first call connects, which a loaded runner may not do within the timeout). */
const connected = (limiter: RateLimiter) =>
  waitFor(async () => (await limiter.peek('warm-up')).source === 'store', { timeoutMs: 20_000 });

/** Registers the frozen and killed scenarios (`backend()` gives the started backend). */
export function outageScenarios(backend: () => OutageBackend): void {
  const setup = () => {
    const cache = backend().cache();
    const limiters = {
      closed: cache.rateLimiter({ limit: 10, window: '1m', name: 'closed' }),
      open: cache.rateLimiter({ limit: 10, window: '1m', name: 'open', onStoreDown: 'open' }),
      local: cache.rateLimiter({ limit: 10, window: '1m', name: 'local', onStoreDown: 'local', instances: 5 }),
    };
    const events: RateLimitStoreDownEvent[] = [];
    for (const limiter of Object.values(limiters)) limiter.on('storeDown', (event) => events.push(event));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    return { cache, limiters, events, unhandled, done: () => process.off('unhandledRejection', onUnhandled) };
  };

  const expectModes = async (limiters: Record<'closed' | 'open' | 'local', RateLimiter>) => {
    const first = await decideAll(limiters);
    expect(first.elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(first.closed).toMatchObject({ allowed: false, source: 'closed' });
    expect(first.open).toMatchObject({ allowed: true, source: 'open' });
    // 'local': limit 10 over 5 instances = 2 in this process.
    expect(first.local).toMatchObject({ allowed: true, source: 'local', remaining: 1 });
    const second = await decideAll(limiters);
    expect(second.elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(second.local).toMatchObject({ allowed: true, source: 'local' });
    expect(await limiters.local.hit('k')).toMatchObject({ allowed: false, source: 'local' });
  };

  it('frozen (SIGSTOP): each onStoreDown mode decides within the timeout and says so; back to the store after SIGCONT', async () => {
    const { cache, limiters, events, unhandled, done } = setup();
    try {
      await connected(limiters.closed);
      try {
        await freezeProcess(backend().pid());
        await expectModes(limiters);
      } finally {
        process.kill(backend().pid(), 'SIGCONT');
      }
      expect(events.map((e) => e.mode)).toEqual(expect.arrayContaining(['closed', 'open', 'local']));
      await waitFor(async () => (await limiters.closed.hit('k2')).source === 'store', { timeoutMs: 20_000 });
      // The calls that hung settle now; none of them may surface.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      done();
      await cache.close().catch(() => {});
    }
  }, 60_000);

  it('killed: each onStoreDown mode decides within the timeout and says so; reset rejects', async () => {
    const { cache, limiters, events, unhandled, done } = setup();
    try {
      await connected(limiters.open);
      await backend().kill();
      await expectModes(limiters);
      expect(events.length).toBeGreaterThanOrEqual(3);
      await expect(limiters.closed.reset('k')).rejects.toMatchObject({ code: expect.stringMatching(/^E_/) });
      const restart = backend().restart;
      if (restart) {
        await restart();
        await waitFor(async () => (await limiters.closed.hit('k3')).source === 'store', { timeoutMs: 20_000 });
      }
      expect(unhandled).toEqual([]);
    } finally {
      done();
      await cache.close().catch(() => {});
    }
  }, 60_000);
}
