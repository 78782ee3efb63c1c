import type { CacheManager } from '@larder/core';
import { createKeyv } from '@larder/keyv';
import { CacheModule } from '@nestjs/cache-manager';
import { type DynamicModule, Module } from '@nestjs/common';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';

/** The app: Nest's CacheModule on larder's default store (`CACHE_DRIVER`, `CACHE_L1`, ... from the environment). */
@Module({})
export class AppModule {
  /** The module over `caches`; its default store backs CACHE_MANAGER through createKeyv. */
  static forRoot(caches: CacheManager): DynamicModule {
    return {
      module: AppModule,
      imports: [CacheModule.register({ stores: [createKeyv(caches.store())], ttl: 60_000 })],
      controllers: [CatalogController],
      providers: [CatalogService],
    };
  }
}
