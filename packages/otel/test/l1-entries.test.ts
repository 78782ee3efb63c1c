import { Cache } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { createMemoryStore } from '@larder/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { instrumentLarder } from '../src/index';
import { otelHarness } from './helpers';

describe('larder.l1.entries', () => {
  const otel = otelHarness();
  afterAll(() => otel.close());

  it('reports the L1 size of each cache given, per store', async () => {
    const withL1 = new Cache({
      // The chaos store is not in-process, so an L1 goes in front of it.
      store: createChaosStore(),
      name: 'tiered',
      prefix: 'app',
      l1: { invalidation: 'none' },
    });
    const plain = new Cache({ store: createMemoryStore(), name: 'plain', prefix: 'app' });
    const instrumented = instrumentLarder({ meterProvider: otel.meterProvider, caches: [withL1, plain] });
    try {
      await withL1.set('a', 1);
      await withL1.set('b', 2);
      for (let i = 0; i < 3; i++) {
        await withL1.get('a');
        await withL1.get('b');
      }
      const entries = (await withL1.describeL1())?.entries ?? 0;
      expect(entries).toBeGreaterThan(0);
      const points = await otel.points('larder.l1.entries');
      expect(points.map((p) => [p.attributes['larder.store'], p.value])).toEqual([['tiered', entries]]);
    } finally {
      instrumented.disable();
      await withL1.close();
      await plain.close();
    }
  });
});
