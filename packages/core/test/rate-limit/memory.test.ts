import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/cache';
import { UnsupportedOperationError } from '../../src/contract/errors';

// The memory driver: one process, so "8 instances" are 8 caches on one store, 25 callers each.
describe('rate limits on the memory driver', () => {
  for (const algorithm of ['fixed', 'sliding', 'token-bucket'] as const) {
    it(`${algorithm}: 8 × 25 concurrent callers, 400 hits on one key → exactly the limit (100)`, async () => {
      const store = createMemoryStore();
      const limiters = Array.from({ length: 8 }, () =>
        new Cache({ store, prefix: 'app' }).rateLimiter({ limit: 100, window: '1m', algorithm }),
      );
      let admitted = 0;
      await Promise.all(
        limiters.flatMap((limiter) =>
          Array.from({ length: 25 }, async () => {
            for (let i = 0; i < 2; i++) if ((await limiter.hit('ip:1')).allowed) admitted++;
          }),
        ),
      );
      expect(admitted).toBe(100);
      // The state lives in the store, under the prefix, and goes with clear().
      expect(store.size).toBe(1);
      await new Cache({ store, prefix: 'app' }).clear();
      expect(store.size).toBe(0);
    });
  }

  it('decides synchronously: the decision is made when hit() is called, before any await', async () => {
    const limiter = new Cache({ store: createMemoryStore() }).rateLimiter({ limit: 1, window: '1m' });
    const first = limiter.hit('k');
    const second = limiter.hit('k');
    expect([(await second).allowed, (await first).allowed]).toEqual([false, true]);
  });

  it('a sliding log larger than maxValueBytes is refused, not truncated', async () => {
    const limiter = new Cache({ store: createMemoryStore({ maxValueBytes: 1000 }) }).rateLimiter({
      limit: 1000,
      window: '1m',
      algorithm: 'sliding',
    });
    await expect(limiter.hit('k')).rejects.toBeInstanceOf(UnsupportedOperationError);
  });
});
