import { MemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { Cache } from '../src/cache/cache';
import { createChaosStore } from '../src/testing/chaos-store';

// A user value shaped like remember's graced entry ({ '\u0000grace': expiry, v }) must read back as itself.
const stores = {
  'encoded (chaos store)': () => createChaosStore(),
  'memory, copies': () => new MemoryStore(),
  'memory, references': () => new MemoryStore({ clone: false }),
};

describe.each(Object.entries(stores))('user data shaped like a graced entry, %s', (_name, make) => {
  const shapes = [
    { '\u0000grace': 0, v: 1 },
    { '\u0000grace': Date.now() + 60_000, v: 1 },
    { '\u0000grace': 'x' },
    { '\u0000grace': 0, v: { '\u0000grace': 0, v: 2 } },
  ];

  it.each(shapes)('set/get, getMany, pull, has and remember return it unchanged: %j', async (shape) => {
    const cache = new Cache({ store: make(), prefix: 't:' });
    await cache.set('k', shape, '1m');
    expect(await cache.get('k')).toEqual(shape);
    expect(await cache.has('k')).toBe(true);
    expect(await cache.getMany(['k'])).toEqual([shape]);
    expect(await cache.remember('k', '1m', () => 'loaded')).toEqual(shape);
    expect(await cache.pull('k')).toEqual(shape);
    await cache.remember('r', '1m', () => shape, { grace: '1m' });
    expect(await cache.get('r')).toEqual(shape);
  });

  // The memory driver's raw modes compare only strings and bytes (see its README): encoded stores only.
  it.runIf(_name.startsWith('encoded'))(
    'compareAndSet matches a stored graced-shaped value given back as expected',
    async () => {
      const cache = new Cache({ store: make(), prefix: 't:' });
      const shape = { '\u0000grace': 0, v: 1 };
      await cache.set('c', shape, '1m');
      expect(await cache.compareAndSet('c', shape, 'next', '1m')).toBe(true);
      expect(await cache.get('c')).toBe('next');
    },
  );
});
