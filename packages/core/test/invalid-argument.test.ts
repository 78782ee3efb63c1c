import { Cache, InvalidArgumentError, LarderError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';

describe('InvalidArgumentError', () => {
  it('increment/decrement steps and remember loaders reject with InvalidArgumentError (E_INVALID_ARGUMENT)', async () => {
    const cache = new Cache({ store: createChaosStore(), onError: 'miss' });
    for (const run of [
      () => cache.increment('n', 1.5),
      () => cache.decrement('n', Number.NaN),
      () => cache.remember('k', '1m', 'not a function' as unknown as () => number),
    ]) {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toBeInstanceOf(LarderError);
      expect(error).toMatchObject({ code: 'E_INVALID_ARGUMENT', name: 'InvalidArgumentError' });
    }
    expect(await cache.has('n')).toBe(false);
  });
});
