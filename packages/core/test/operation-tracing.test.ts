import { createMemoryStore } from '@larder/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { Cache } from '../src/cache/cache';
import type { CacheStore } from '../src/contract/store';
import { createChaosStore } from '../src/testing/chaos-store';
import { type OperationTraceContext, operationChannel } from '../src/util/tracing';

const noop = () => {};
const noHandlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };

/** Collects each traced operation's context as it was at asyncEnd. */
function collect() {
  const done: OperationTraceContext[] = [];
  const handlers = {
    start() {},
    end() {},
    asyncStart() {},
    asyncEnd(message: unknown) {
      const { result: _result, ...context } = message as OperationTraceContext;
      done.push(context);
    },
    error() {},
  };
  operationChannel.subscribe(handlers);
  return { done, stop: () => operationChannel.unsubscribe(handlers) };
}

describe('every facade operation is traced on larder.operation', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('with the documented context, completed with hit, tier and graced', async () => {
    const cache = new Cache({ store: createMemoryStore(), name: 'main', prefix: 'app' });
    const c = collect();
    stop = c.stop;
    const base = { store: 'main', driver: 'memory' };
    await cache.set('a', 1);
    await cache.get('a');
    await cache.get('absent');
    await cache.getMany(new Set(['a', 'b', 'absent']).values());
    await cache.setMany({ b: 2, c: 3 });
    await cache.add('d', 4);
    await cache.forever('e', 5);
    await cache.has('a');
    await cache.delete('e');
    await cache.deleteMany(['c', 'd']);
    await cache.pull('b');
    await cache.increment('n');
    await cache.decrement('n');
    await cache.touch('a', '1m');
    await cache.compareAndSet('a', 1, 2);
    await cache.remember('r', '1m', () => 'loaded');
    await cache.remember('r', '1m', () => 'again');
    await cache.rememberForever('f', () => 'x');
    await cache.namespace('users').get('1');
    await cache.clear();
    expect(c.done).toEqual([
      { ...base, operation: 'set', keyCount: 1 },
      { ...base, operation: 'get', keyCount: 1, hit: true, tier: 'l2' },
      { ...base, operation: 'get', keyCount: 1, hit: false },
      { ...base, operation: 'getMany', keyCount: 3, hit: 1, tier: 'l2' },
      { ...base, operation: 'setMany', keyCount: 2 },
      { ...base, operation: 'add', keyCount: 1 },
      { ...base, operation: 'forever', keyCount: 1 },
      { ...base, operation: 'has', keyCount: 1, hit: true, tier: 'l2' },
      { ...base, operation: 'delete', keyCount: 1 },
      { ...base, operation: 'deleteMany', keyCount: 2 },
      { ...base, operation: 'pull', keyCount: 1, hit: true, tier: 'l2' },
      { ...base, operation: 'increment', keyCount: 1 },
      { ...base, operation: 'decrement', keyCount: 1 },
      { ...base, operation: 'touch', keyCount: 1 },
      { ...base, operation: 'compareAndSet', keyCount: 1 },
      { ...base, operation: 'remember', keyCount: 1, hit: false, graced: false, loaderMs: expect.any(Number) },
      { ...base, operation: 'remember', keyCount: 1, hit: true, graced: false, tier: 'l2' },
      { ...base, operation: 'rememberForever', keyCount: 1, hit: false, graced: false, loaderMs: expect.any(Number) },
      { ...base, operation: 'get', keyCount: 1, hit: false },
      { ...base, operation: 'clear', keyCount: 0 },
    ]);
  });

  it('names the key (namespace path + key) only with traceKeys', async () => {
    const cache = new Cache({ store: createMemoryStore(), name: 'k', traceKeys: true });
    const c = collect();
    stop = c.stop;
    await cache.namespace('users').set('1', 'x');
    await cache.getMany(['a', 'b']);
    expect(c.done[0]?.key).toBe('users:1');
    expect(c.done[1]?.key).toBeUndefined();
  });

  it('marks a stale value served within grace as graced', async () => {
    const cache = new Cache({ store: createMemoryStore(), name: 'g' });
    await cache.remember('k', 20, () => 'old', { grace: '1m' });
    const until = Date.now() + 25;
    while (Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
    const c = collect();
    stop = c.stop;
    expect(await cache.remember('k', 20, () => 'new', { grace: '1m' })).toBe('old');
    expect(c.done[0]).toMatchObject({ operation: 'remember', hit: true, graced: true, tier: 'l2' });
  });

  it('reports the rejection on the error event and still rejects the caller', async () => {
    const cache = new Cache({ store: createMemoryStore(), name: 'e' });
    const errors: unknown[] = [];
    const handlers = { ...noHandlers, error: (m: unknown) => errors.push((m as OperationTraceContext).error) };
    operationChannel.subscribe(handlers);
    stop = () => operationChannel.unsubscribe(handlers);
    await expect(cache.get('')).rejects.toThrow();
    await expect(cache.getMany(null as unknown as string[])).rejects.toThrow();
    expect(errors).toHaveLength(2);
  });

  it('takes the untraced path when nobody subscribes', async () => {
    expect(operationChannel.hasSubscribers).toBe(false);
    const cache = new Cache({ store: createMemoryStore() });
    await cache.set('a', 1);
    expect(await cache.get('a')).toBe(1);
  });
});

describe('rememberWithStatus', () => {
  it('says miss (age 0), then hit, then graced with the age of a graced entry', async () => {
    const cache = new Cache({ store: createMemoryStore() });
    expect(await cache.rememberWithStatus('k', 30, () => 'v1', { grace: '1m' })).toEqual({
      value: 'v1',
      status: 'miss',
      ageMs: 0,
      tier: undefined,
    });
    const hit = await cache.rememberWithStatus('k', 30, () => 'v2', { grace: '1m' });
    expect(hit).toMatchObject({ value: 'v1', status: 'hit', tier: 'l2' });
    expect(hit.ageMs).toBeGreaterThanOrEqual(0);
    expect(hit.ageMs).toBeLessThan(30);
    const until = Date.now() + 35;
    while (Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
    const graced = await cache.rememberWithStatus('k', 30, () => 'v3', { grace: '1m' });
    expect(graced).toMatchObject({ value: 'v1', status: 'graced', tier: 'l2' });
    expect(graced.ageMs).toBeGreaterThanOrEqual(30);
  });

  it('has an age for a plain cached value on the memory store, and counts hits and misses like remember', async () => {
    const cache = new Cache({ store: createMemoryStore() });
    await cache.set('p', 'plain');
    const hit = await cache.rememberWithStatus('p', '1m', () => 'x');
    expect(hit).toMatchObject({ value: 'plain', status: 'hit', tier: 'l2' });
    // Raw values carry no metadata: the store's `writtenAt` says when it was set.
    expect(hit.ageMs).toBeGreaterThanOrEqual(0);
    expect(hit.ageMs).toBeLessThan(1000);
    // A raw-value store without `writtenAt` cannot say (the chaos store has one: taken off here).
    const rawStore: CacheStore & { writtenAt?: unknown } = createChaosStore({ capabilities: { rawValues: true } });
    delete rawStore.writtenAt;
    const raw = new Cache({ store: rawStore });
    await raw.set('p', 'plain');
    expect((await raw.rememberWithStatus('p', '1m', () => 'x')).ageMs).toBeUndefined();
    await cache.rememberWithStatus('q', '1m', () => 'x');
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe('traceKeys as a store option', () => {
  it('reaches the trace context through the manager', async () => {
    const { createCacheManager } = await import('../src/manager/manager');
    const caches = createCacheManager({ default: 'm', stores: { m: { driver: 'memory', traceKeys: true } } });
    const keys: (string | undefined)[] = [];
    const handlers = { ...noHandlers, asyncEnd: (m: unknown) => keys.push((m as OperationTraceContext).key) };
    operationChannel.subscribe(handlers);
    try {
      await caches.store().get('user:1');
      await createCacheManager({ default: 'm', stores: { m: { driver: 'memory' } } })
        .store()
        .get('user:1');
    } finally {
      operationChannel.unsubscribe(handlers);
    }
    expect(keys).toEqual(['user:1', undefined]);
    await caches.close();
  });
});

describe('a store given as a promise', () => {
  it('names its driver in the context once the operation has waited for it', async () => {
    const cache = new Cache({ store: Promise.resolve(createMemoryStore()), name: 'lazy' });
    const drivers: string[] = [];
    const handlers = { ...noHandlers, asyncEnd: (m: unknown) => drivers.push((m as OperationTraceContext).driver) };
    operationChannel.subscribe(handlers);
    try {
      await cache.get('a');
    } finally {
      operationChannel.unsubscribe(handlers);
    }
    expect(drivers).toEqual(['memory']);
  });
});

describe('a store still being created', () => {
  it("a manager's cache names the configured driver from its first operation; the store's address once known", async () => {
    const { createCacheManager } = await import('../src/manager/manager');
    const caches = createCacheManager({
      default: 'm',
      stores: { m: { driver: 'far' } },
      drivers: [],
    } as never);
    caches.extend('far', async () => Object.assign(createMemoryStore(), { driver: 'far', address: '10.0.0.7:6379' }));
    const started: [string, string | undefined][] = [];
    const ended: [string, string | undefined][] = [];
    const handlers = {
      ...noHandlers,
      start: (m: unknown) => started.push([(m as OperationTraceContext).driver, (m as OperationTraceContext).server]),
      asyncEnd: (m: unknown) => ended.push([(m as OperationTraceContext).driver, (m as OperationTraceContext).server]),
    };
    operationChannel.subscribe(handlers);
    try {
      const cache = caches.store();
      await Promise.all([cache.set('a', 1), cache.get('a')]);
      await cache.get('a');
    } finally {
      operationChannel.unsubscribe(handlers);
    }
    // Before: 'unknown' until the store was built.
    expect(started).toEqual([
      ['far', undefined],
      ['far', undefined],
      ['far', '10.0.0.7:6379'],
    ]);
    expect(ended.every(([driver, server]) => driver === 'far' && server === '10.0.0.7:6379')).toBe(true);
    await caches.close();
  });
});

describe('rate-limit decisions are traced like every operation', () => {
  it('as rateLimit.<op> on the cache, with the key under traceKeys, and an outage as an error', async () => {
    const cache = new Cache({ store: createMemoryStore(), name: 'limits', traceKeys: true });
    const limiter = cache.namespace('api').rateLimiter({ limit: 1, window: '1m' });
    const c = collect();
    try {
      await limiter.hit('ip:1');
      await limiter.hit('ip:1');
      await limiter.peek('ip:1');
      await limiter.refund('ip:1');
      await limiter.reset('ip:1');
    } finally {
      c.stop();
    }
    const base = { store: 'limits', driver: 'memory', keyCount: 1, key: 'api:ip:1' };
    expect(c.done).toEqual(
      ['hit', 'hit', 'peek', 'refund', 'reset'].map((op) => ({ ...base, operation: `rateLimit.${op}` })),
    );
  });
});
