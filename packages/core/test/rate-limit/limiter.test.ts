import { createMemoryStore } from '@larder/memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/cache';
import {
  BackendError,
  InvalidArgumentError,
  InvalidKeyError,
  UnsupportedOperationError,
} from '../../src/contract/errors';
import type { RateLimitRequest } from '../../src/contract/rate-limit';
import type { CacheStore } from '../../src/contract/store';
import type { RateLimitStoreDownEvent } from '../../src/rate-limit/limiter';
import { createMapStore } from '../../src/testing/map-store';

/** A remote-looking store over the memory driver whose `rateLimit` can fail or hang; counts its calls. */
function flakyStore() {
  const memory = createMemoryStore();
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  const requests: { key: string; request: RateLimitRequest }[] = [];
  const store: CacheStore = {
    driver: 'flaky',
    capabilities: { ...memory.capabilities, inProcess: false, rawValues: false, checksRawValues: false },
    get: (key) => memory.get(key),
    set: (key, payload, ttl) => memory.set(key, payload, ttl),
    delete: (key) => memory.delete(key),
    rateLimit(key, request) {
      requests.push({ key, request });
      if (mode === 'fail')
        return Promise.reject(new BackendError('flaky rateLimit failed: connection refused', 'flaky'));
      // A hanging call settles (rejects) long after the decision was made: must not surface.
      if (mode === 'hang') return new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 300));
      return memory.rateLimit!(key, request);
    },
  };
  return {
    store,
    requests,
    set mode(m: 'ok' | 'fail' | 'hang') {
      mode = m;
    },
  };
}

describe('cache.rateLimiter', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('keeps its counts under the store prefix, the reserved rate namespace and the namespace path', async () => {
    const flaky = flakyStore();
    const cache = new Cache({ store: flaky.store, prefix: 'app' });
    await cache.rateLimiter({ limit: 5, window: '1m' }).hit('ip:1');
    await cache
      .namespace('api')
      .rateLimiter({ limit: 5, window: '1m', algorithm: 'sliding', name: 'login' })
      .hit('ip:1');
    expect(flaky.requests.map((r) => r.key)).toEqual([
      'app:__larder:rate:fixed:ip:1',
      'app:__larder:rate:sliding:login:api:ip:1',
    ]);
    expect(flaky.requests[0]!.request).toEqual({ op: 'hit', algorithm: 'fixed', limit: 5, windowMs: 60_000, cost: 1 });
  });

  it.each([
    [{ limit: 0, window: '1m' }, 'limit'],
    [{ limit: -1, window: '1m' }, 'limit'],
    [{ limit: Number.NaN, window: '1m' }, 'limit'],
    [{ limit: 1.5, window: '1m' }, 'limit'],
    [{ limit: '10', window: '1m' }, 'limit'],
    [{ limit: 10, window: '0s' }, 'window'],
    [{ limit: 10, window: 'abc' }, 'window'],
    [{ limit: 10, window: 0 }, 'window'],
    [{ limit: 10, window: -5 }, 'window'],
    [{ limit: 10, window: '1m', algorithm: 'leaky' }, 'algorithm'],
    [{ limit: 10, window: '1m', onStoreDown: 'maybe' }, 'onStoreDown'],
    [{ limit: 10, window: '1m', instances: 0 }, 'instances'],
    [{ limit: 10, window: '1m', name: '' }, 'name'],
  ])('refuses %j with InvalidArgumentError naming %s', (options, argument) => {
    const cache = new Cache({ store: flakyStore().store });
    const make = () => cache.rateLimiter(options as never);
    expect(make).toThrow(InvalidArgumentError);
    try {
      make();
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_INVALID_ARGUMENT', argument });
    }
  });

  it('bad keys and costs reject with typed errors and send nothing to the store', async () => {
    const flaky = flakyStore();
    const limiter = new Cache({ store: flaky.store }).rateLimiter({ limit: 10, window: '1m' });
    for (const key of ['', 42, undefined, null, '__larder:x'])
      await expect(limiter.hit(key as string)).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
    await expect(limiter.hit('')).rejects.toBeInstanceOf(InvalidKeyError);
    for (const cost of [0, -1, 11, 1.5, Number.NaN, '2'])
      await expect(limiter.hit('k', { cost: cost as number })).rejects.toMatchObject({
        code: 'E_INVALID_ARGUMENT',
        argument: 'cost',
      });
    await expect(limiter.attempt('k', 'not a function' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(flaky.requests).toHaveLength(0);
  });

  it('a store without rateLimit: UnsupportedOperationError naming the driver', async () => {
    const limiter = new Cache({ store: createMapStore('plain', false) }).rateLimiter({ limit: 1, window: '1s' });
    await expect(limiter.hit('k')).rejects.toBeInstanceOf(UnsupportedOperationError);
    await expect(limiter.hit('k')).rejects.toThrow(/plain driver does not support rate limits/);
  });

  it('attempt counts before it runs: 50 concurrent attempts at limit 10 run fn 10 times', async () => {
    const limiter = new Cache({ store: flakyStore().store }).rateLimiter({ limit: 10, window: '1m' });
    let runs = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        limiter.attempt('mail', async () => {
          await new Promise((resolve) => setImmediate(resolve));
          return ++runs;
        }),
      ),
    );
    expect(runs).toBe(10);
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results.find((r) => !r.allowed)?.decision).toMatchObject({ allowed: false, remaining: 0, source: 'store' });
  });

  describe('onStoreDown', () => {
    for (const failure of ['fail', 'hang'] as const) {
      it(`${failure}: 'closed' denies, 'open' allows, 'local' admits limit / instances; each says so, within the timeout`, async () => {
        const flaky = flakyStore();
        const cache = new Cache({ store: flaky.store, timeout: 100 });
        const errors: unknown[] = [];
        cache.on('error', (event) => errors.push(event));
        const closed = cache.rateLimiter({ limit: 10, window: '1m' });
        const open = cache.rateLimiter({ limit: 10, window: '1m', onStoreDown: 'open' });
        const local = cache.rateLimiter({ limit: 10, window: '1m', onStoreDown: 'local', instances: 4 });
        const events: RateLimitStoreDownEvent[] = [];
        closed.on('storeDown', (event) => events.push(event));
        flaky.mode = failure;
        const started = performance.now();
        const [c, o, l] = await Promise.all([closed.hit('k'), open.hit('k'), local.hit('k')]);
        expect(performance.now() - started).toBeLessThan(1000);
        expect(c).toMatchObject({ allowed: false, source: 'closed', remaining: 0, retryAfterMs: 1000 });
        expect(o).toMatchObject({ allowed: true, source: 'open' });
        expect(l).toMatchObject({ allowed: true, source: 'local', remaining: 1 });
        expect((await local.hit('k')).allowed).toBe(true);
        expect(await local.hit('k')).toMatchObject({ allowed: false, source: 'local' });
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ key: 'k', mode: 'closed' });
        expect(events[0]!.error).toBeInstanceOf(BackendError);
        expect(errors.length).toBeGreaterThanOrEqual(3);
        expect(errors[0]).toMatchObject({ operation: 'rateLimit', key: 'k' });
        // A reset cannot fall back on anything: it rejects.
        await expect(closed.reset('k')).rejects.toBeInstanceOf(BackendError);
        // Back up: the store decides again.
        flaky.mode = 'ok';
        expect(await closed.hit('k')).toMatchObject({ allowed: true, source: 'store' });
        // Hanging calls settle (reject) after the decisions: nothing unhandled.
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect(unhandled).toEqual([]);
      });
    }

    it("'local' with a limit below the instance count admits nothing on its own", async () => {
      const flaky = flakyStore();
      flaky.mode = 'fail';
      const limiter = new Cache({ store: flaky.store }).rateLimiter({
        limit: 3,
        window: '1m',
        onStoreDown: 'local',
        instances: 8,
      });
      expect(await limiter.hit('k')).toMatchObject({ allowed: false, source: 'local' });
    });

    it('a store that could not be made at all rejects (a configuration problem, as for every operation)', async () => {
      const cache = new Cache({ store: Promise.reject(new Error('no such host')) as never });
      const limiter = cache.rateLimiter({ limit: 3, window: '1m', onStoreDown: 'open' });
      await expect(limiter.hit('k')).rejects.toThrow(/no such host/);
    });
  });
});
