import 'reflect-metadata';
import { Cache } from '@larder/core';
import { createKeyv, KeyvLarder } from '@larder/keyv';
import { createMemoryStore } from '@larder/memory';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Cache as CacheManager } from 'cache-manager';
import { Keyv as Keyv6 } from 'keyv6';
import { describe, expect, it } from 'vitest';

/** CACHE_MANAGER of a Nest context whose CacheModule is given `store`. */
async function nestCacheManager(store: unknown): Promise<{ manager: CacheManager; close(): Promise<void> }> {
  @Module({ imports: [CacheModule.register({ stores: [store as never] })] })
  class PairingModule {}
  const context = await NestFactory.createApplicationContext(PairingModule, { logger: false });
  return { manager: context.get(CACHE_MANAGER), close: () => context.close() };
}

describe('@nestjs/cache-manager 12 with a Keyv 6', () => {
  const cache = new Cache({ store: createMemoryStore(), prefix: 'pairing:' });

  it('uses createKeyv(Keyv 6) as it is (it has opts): one envelope, encoded once', async () => {
    const keyv = createKeyv(cache, { keyv: Keyv6, namespace: 'k6' });
    const { manager, close } = await nestCacheManager(keyv);
    expect(manager.stores[0]).toBe(keyv);
    await manager.set('d', new Date(1));
    expect((await cache.namespace('k6').get<{ value: unknown }>('d'))?.value).toEqual(new Date(1));
    await close();
  });

  it('wraps a bare Keyv 6 (no opts) in its own Keyv: an envelope stored inside an envelope', async () => {
    const bare = new Keyv6({ store: new KeyvLarder(cache, { contract: 6 }), namespace: 'bare', serialization: false });
    const { manager, close } = await nestCacheManager(bare);
    expect(manager.stores[0]).not.toBe(bare);
    await manager.set('n', 1);
    // Nest's own Keyv (namespace: undefined) also reset the Keyv 6's namespace: the key left 'bare'.
    expect(bare.namespace).toBeUndefined();
    const stored = await cache.get<{ value: unknown }>('n');
    expect(typeof stored?.value).toBe('string');
    expect(JSON.parse(stored?.value as string)).toMatchObject({ value: 1 });
    await close();
  });
});
