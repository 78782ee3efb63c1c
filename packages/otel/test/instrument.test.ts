import { Cache } from '@larder/core';
import { type MemcachedCluster, type RedisServer, startMemcached, startRedis } from '@larder/dev-services';
import { createMemcachedStore } from '@larder/memcached';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InstrumentLarder, instrumentLarder } from '../src/index';
import { otelHarness, total } from './helpers';

const SECRET_KEY = 'user:4711:secret-token';

type Harness = ReturnType<typeof otelHarness>;

/** Runs the same checks against one real store. */
function suite(label: string, system: string, open: () => Promise<{ cache: Cache; stop: () => Promise<void> }>) {
  describe(`@larder/otel with ${label}`, () => {
    let otel: Harness;
    let instrumented: InstrumentLarder;
    let cache: Cache;
    let stop: () => Promise<void>;

    beforeAll(async () => {
      otel = otelHarness();
      ({ cache, stop } = await open());
      instrumented = instrumentLarder({
        tracerProvider: otel.tracerProvider,
        meterProvider: otel.meterProvider,
        traceKeys: true,
        keyGroups: [[/^report:/, 'report:*']],
        caches: [cache],
      });
      await instrumented.ready;
    });
    afterAll(async () => {
      instrumented?.disable();
      await stop?.();
      await otel?.close();
    });

    it('makes spans `larder <operation>` under a parent span, with database and larder attributes', async () => {
      await otel.inParent(async () => {
        await cache.set(SECRET_KEY, { a: 1 }, '1m');
        expect(await cache.get(SECRET_KEY)).toEqual({ a: 1 });
        expect(await cache.get('user:1:absent')).toBeUndefined();
        await cache.getMany([SECRET_KEY, 'user:2:absent', 'report:2024']);
        await cache.remember('report:2024', '1m', () => 'built');
      });
      const spans = otel.exporter.getFinishedSpans();
      const parent = spans.find((span) => span.name === 'request');
      const larder = spans.filter((span) => span.name.startsWith('larder '));
      expect(larder.map((span) => span.name)).toEqual([
        'larder set',
        'larder get',
        'larder get',
        'larder getMany',
        'larder remember',
      ]);
      for (const span of larder) expect(span.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
      const [set, hit, miss, many, remember] = larder;
      expect(set?.attributes).toMatchObject({
        'db.system.name': system,
        'db.operation.name': 'set',
        'larder.store': label,
        'larder.key': 'user:*:secret-token',
      });
      expect(set?.attributes['larder.hit']).toBeUndefined();
      expect(hit?.attributes).toMatchObject({ 'larder.hit': true, 'larder.tier': 'l2', 'db.operation.name': 'get' });
      expect(miss?.attributes).toMatchObject({ 'larder.hit': false });
      expect(miss?.attributes['larder.tier']).toBeUndefined();
      expect(many?.attributes).toMatchObject({ 'larder.hit': 1, 'db.operation.batch.size': 3 });
      expect(many?.attributes['larder.key']).toBeUndefined();
      expect(remember?.attributes).toMatchObject({ 'larder.hit': false, 'larder.key': 'report:*' });
      if (system === 'memory') expect(set?.attributes['server.address']).toBeUndefined();
      else {
        expect(set?.attributes['server.address']).toBe('127.0.0.1');
        expect(typeof set?.attributes['server.port']).toBe('number');
      }
      // Raw keys stay out of span attributes too: only groups.
      for (const span of larder) expect(JSON.stringify(span.attributes)).not.toContain('4711');
    });

    it('makes no span without a parent, but still records metrics', async () => {
      otel.exporter.reset();
      const before = total(await otel.points('larder.hits'), { 'larder.store': label });
      await cache.get(SECRET_KEY);
      expect(otel.exporter.getFinishedSpans()).toEqual([]);
      expect(total(await otel.points('larder.hits'), { 'larder.store': label })).toBe(before + 1);
    });

    it('records the duration histogram and hit/miss counts, with no key in any metric attribute', async () => {
      const durations = await otel.points('larder.operation.duration');
      const gets = durations.filter(
        (point) => point.attributes['larder.operation'] === 'get' && point.attributes['larder.store'] === label,
      );
      const hitPoint = gets.find((point) => point.attributes['larder.outcome'] === 'hit');
      const missPoint = gets.find((point) => point.attributes['larder.outcome'] === 'miss');
      expect(hitPoint?.attributes).toMatchObject({ 'larder.tier': 'l2', 'db.system.name': system });
      const hitHistogram = hitPoint?.value as Histogram | undefined;
      expect(hitHistogram?.count).toBe(2);
      expect((missPoint?.value as Histogram | undefined)?.count).toBe(1);
      expect(hitHistogram?.sum).toBeGreaterThan(0);
      expect(durations.some((point) => point.attributes['larder.outcome'] === 'partial')).toBe(true);
      const hits = await otel.points('larder.hits');
      const misses = await otel.points('larder.misses');
      // get ×2 hit, getMany 1 of 3; misses: get ×1, getMany 2, remember 1.
      expect(total(hits, { 'larder.store': label })).toBe(3);
      expect(total(misses, { 'larder.store': label })).toBe(4);
      for (const point of [...durations, ...hits, ...misses]) {
        const text = JSON.stringify(point.attributes);
        expect(text).not.toContain('user:');
        expect(text).not.toContain('report:');
        expect(Object.keys(point.attributes)).not.toContain('larder.key');
      }
    });

    it('stops after disable()', async () => {
      instrumented.disable();
      otel.exporter.reset();
      await otel.inParent(() => cache.get(SECRET_KEY));
      expect(otel.exporter.getFinishedSpans().map((span) => span.name)).toEqual(['request']);
    });
  });
}

suite('memory', 'memory', async () => {
  const cache = new Cache({ store: createMemoryStore(), name: 'memory', traceKeys: true });
  return { cache, stop: () => cache.close() };
});

let redis: RedisServer | undefined;
suite('redis', 'redis', async () => {
  redis = await startRedis();
  const cache = new Cache({
    store: createRedisStore({ url: redis.url }),
    name: 'redis',
    prefix: 'otel',
    traceKeys: true,
  });
  return {
    cache,
    stop: async () => {
      await cache.close();
      await redis?.stop();
    },
  };
});

let memcached: MemcachedCluster | undefined;
suite('memcached', 'memcached', async () => {
  memcached = await startMemcached({ count: 2 });
  const store = createMemcachedStore({ servers: memcached.servers.split(',') });
  const cache = new Cache({ store, name: 'memcached', prefix: 'otel', traceKeys: true });
  return {
    cache,
    stop: async () => {
      await cache.close();
      await memcached?.stop();
    },
  };
});
