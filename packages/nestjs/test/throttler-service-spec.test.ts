import 'reflect-metadata';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ThrottlerStorage } from '@nestjs/throttler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RcBackend, rcBackends } from '../../http/test/harness';
import { LarderThrottlerStorage } from '../src/index';

// @nestjs/throttler's own storage tests, with larder's storage swapped in: ported from the
// nestjs/throttler repository at 6.5.1 (run here against 6.7.1; the npm tarball ships no tests),
// src/throttler.service.spec.ts, written for its in-memory ThrottlerStorageService. All three
// cases are kept with their names and assertions, on memory and a real redis-server. The storage
// is provided under the `ThrottlerStorage` token as upstream does (there through
// @nestjs/testing's Test.createTestingModule, not a dependency here: through
// NestFactory.createApplicationContext, the same container), a fresh one per test as its
// beforeEach does. test/storage-contract.test.ts covers the rest of the contract (limit 0, the
// block, refused hits not counted, the sliding algorithm).
//
// Left out: src/throttler.guard.spec.ts (the guard, on a storage mock it defines) and the test/
// e2e specs (the guard, decorators and error messages through HTTP on the default storage, with
// block durations of 5 to 15 s).

/** The storage as Nest's container hands it out under `ThrottlerStorage`. */
async function storageModule(backend: RcBackend): Promise<INestApplicationContext> {
  @Module({
    providers: [
      {
        provide: ThrottlerStorage,
        useFactory: () => new LarderThrottlerStorage(backend.cache()),
      },
    ],
  })
  class StorageModule {}
  return NestFactory.createApplicationContext(StorageModule, { logger: false });
}

const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('@nestjs/throttler storage tests on LarderThrottlerStorage ($name)', (backend) => {
  describe('ThrottlerStorageService', () => {
    let service: LarderThrottlerStorage;

    beforeEach(async () => {
      const modRef = await storageModule(backend);
      service = modRef.get<LarderThrottlerStorage>(ThrottlerStorage);
      return () => modRef.close();
    });

    it('should have all of the providers defined', () => {
      expect(service).toBeDefined();
      // Added here: the token resolves to larder’s storage.
      expect(service).toBeInstanceOf(LarderThrottlerStorage);
    });

    it('should increment the request count', async () => {
      const result = await service.increment('test', 1000, 1, 0, 'test');
      expect(result).toBeDefined();
      expect(result.totalHits).toBe(1);
      expect(result.timeToExpire).toBe(1);
      expect(result.isBlocked).toBe(false);
      // Added here: no block pending.
      expect(result.timeToBlockExpire).toBe(0);
    });

    it('keys should be independent of each other over blocking and unblocking', async () => {
      // this test was added to specifically test the behavior of unblocking a key while
      // another key has active timeouts. These timeouts should not be affected since
      // they are critical for the throttler to function correctly.
      // the sleep is smaller than the ttl so key1 always has timeouts that are waiting.
      // key2 will be throttled because it makes 4 requests every ttl window
      const ttl = 100;
      const blockDuration = 100;
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

      for (let i = 0; i < 10; i++) {
        await service.increment('key1', ttl, 3, blockDuration, 'test').then((result) => {
          expect(result.isBlocked).toBe(false);
        });
        await service.increment('key2', ttl, 3, blockDuration, 'test');
        await service.increment('key2', ttl, 3, blockDuration, 'test');
        await sleep(50);
      }
    });
  });
});
