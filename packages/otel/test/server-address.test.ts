import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { instrumentLarder } from '../src/index';
import { otelHarness } from './helpers';

describe('@larder/otel names the server of every cache', () => {
  const otel = otelHarness();
  const instrumented = instrumentLarder({ tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
  afterAll(async () => {
    instrumented.disable();
    await otel.close();
  });

  it('from the store address, for a cache not passed in `caches`, also when its store was still being created', async () => {
    const store = Object.assign(createMemoryStore(), { address: '10.0.0.7:6379' });
    const cache = new Cache({ store: Promise.resolve(store), name: 'far', driver: 'memory' });
    await otel.inParent(async () => {
      await cache.set('k', 1);
      await cache.get('k');
    });
    const spans = otel.exporter.getFinishedSpans().filter((span) => span.name.startsWith('larder '));
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.attributes).toMatchObject({ 'server.address': '10.0.0.7', 'server.port': 6379 });
    }
    await cache.close();
  });
});
