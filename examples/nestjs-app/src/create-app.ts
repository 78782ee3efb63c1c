import 'reflect-metadata';
import { type CacheManager, configFromEnv, createCacheManager } from '@larder/core';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/** A Nest app (express platform) whose cache backend comes from `env`, as in the Express example. */
export async function createNestApp(
  env: NodeJS.ProcessEnv,
  options: { logger?: false } = {},
): Promise<{ app: INestApplication; caches: CacheManager; close(): Promise<void> }> {
  const caches = createCacheManager(configFromEnv(env));
  const app = await NestFactory.create(AppModule.forRoot(caches), options);
  return {
    app,
    caches,
    async close() {
      // Nest's CacheModule disconnects its store on destroy; the larder stores close with the manager.
      await app.close();
      await caches.close();
    },
  };
}
