import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends } from '../../http/test/harness';
import { LarderThrottlerStorage } from '../src/index';

// The ThrottlerStorage contract as @nestjs/throttler's own storage meets it, beyond the cases of
// its src/throttler.service.spec.ts (ported in test/throttler-service-spec.test.ts): its
// behaviours that are not about that class's timers and sweep, written here against
// LarderThrottlerStorage on memory and a real redis-server.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('ThrottlerStorage contract: LarderThrottlerStorage ($name)', (backend) => {
  let storage: LarderThrottlerStorage;
  beforeAll(() => {
    storage = new LarderThrottlerStorage(backend.cache());
  });

  describe('without a block duration', () => {
    it('refuses hits over the limit (limit + 1 hits reported) rather than resetting the count', async () => {
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await storage.increment('no-block', 1000, 2, 0, 'test'));
      expect(results.map((result) => result.isBlocked)).toEqual([false, false, true, true, true]);
      expect(results[2]?.totalHits).toBe(3);
      expect(results[2]?.timeToBlockExpire).toBeGreaterThan(0);
    });

    it('the time to wait is until the oldest hit leaves the window', async () => {
      await storage.increment('oldest', 10_000, 1, 0, 'test');
      await sleep(1100);
      const result = await storage.increment('oldest', 10_000, 1, 0, 'test');
      expect(result.isBlocked).toBe(true);
      expect(result.timeToBlockExpire).toBe(9);
    });

    it('a limit of zero refuses every request', async () => {
      const result = await storage.increment('zero', 1000, 0, 0, 'test');
      expect(result.isBlocked).toBe(true);
      expect(result.timeToBlockExpire).toBe(1);
    });

    it('refused retries are not counted: once the hits expire a request is admitted as the first', async () => {
      // A 400 ms window: the five retries (75 ms of sleeps) stay inside it on a loaded runner.
      await storage.increment('retries', 400, 2, 0, 'test');
      await storage.increment('retries', 400, 2, 0, 'test');
      const start = Date.now();
      for (let i = 0; i < 5; i++) {
        await sleep(15);
        expect((await storage.increment('retries', 400, 2, 0, 'test')).isBlocked).toBe(true);
      }
      expect(Date.now() - start).toBeLessThan(400);
      await sleep(400);
      expect(await storage.increment('retries', 400, 2, 0, 'test')).toMatchObject({ isBlocked: false, totalHits: 1 });
    });
  });

  it('with a block duration, hits that expired are not counted', async () => {
    await storage.increment('expiring', 50, 2, 50, 'test');
    await storage.increment('expiring', 50, 2, 50, 'test');
    await sleep(70);
    expect(await storage.increment('expiring', 50, 2, 50, 'test')).toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it("algorithm 'sliding': each hit leaves the window ttl after it was made (the default 'fixed' restarts it)", async () => {
    const sliding = new LarderThrottlerStorage(backend.cache(), { algorithm: 'sliding' });
    const run = async (each: LarderThrottlerStorage) => {
      await each.increment('slide', 400, 2, 0, 'test');
      await sleep(200);
      await each.increment('slide', 400, 2, 0, 'test');
      await sleep(250);
      // 450 ms after the first hit: gone from both; the second (250 ms old) still counts when sliding.
      return (await each.increment('slide', 400, 2, 0, 'test')).totalHits;
    };
    expect(await Promise.all([run(sliding), run(storage)])).toEqual([2, 1]);
  });

  it('a blocked key stays blocked after its window, for the block duration', async () => {
    await storage.increment('blocked', 50, 1, 1000, 'test');
    expect((await storage.increment('blocked', 50, 1, 1000, 'test')).isBlocked).toBe(true);
    await sleep(100);
    expect(await storage.increment('blocked', 50, 1, 1000, 'test')).toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 1,
    });
  });
});
