import 'reflect-metadata';
import { type INestApplication, type MiddlewareConsumer, Module, type NestModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { clientOf, type Served } from '../../http/test/harness';
import { LarderModule, type LarderModuleOptions, LarderResponseCacheMiddleware } from '../src/index';

/** The HTTP platforms a Nest app runs on. */
export type Platform = 'express' | 'fastify';

/** A Nest app on `platform` listening on a loopback port, and a client of it (`close` stops both). */
export async function serveNest(
  module: Type<unknown>,
  platform: Platform = 'express',
): Promise<{ app: INestApplication; served: Served }> {
  const app =
    platform === 'express'
      ? await NestFactory.create(module, { logger: false })
      : await NestFactory.create(module, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = Number(new URL(await app.getUrl()).port);
  return { app, served: clientOf(port, () => app.close()) };
}

/** A root module: LarderModule over `options`, `controller`, and the response-cache middleware in front of it. */
export function responseCacheModule(controller: Type<unknown>, options: LarderModuleOptions): Type<unknown> {
  @Module({ imports: [LarderModule.forRoot(options)], controllers: [controller] })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      consumer.apply(LarderResponseCacheMiddleware).forRoutes(controller);
    }
  }
  return AppModule;
}
