// One app instance of the throttler fleet test (child_process.fork with tsx): a Nest app per
// backend of LARDER_NEST_FLEET, each with @nestjs/throttler's guard on LarderThrottlerStorage
// (limit 100 a minute), listening on a loopback port; the ports go to the parent.
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { Cache } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';
import type { INestApplication } from '@nestjs/common';
import type { WorkerSpec } from '../../../core/test/rate-limit/fleet';
import { LarderThrottlerStorage } from '../../src/index';

export const FLEET_LIMIT = 100;

// Nest by require, as @nestjs/throttler (CommonJS) loads it: under tsx a require of Nest's ES
// modules is compiled apart from an import of them, and the guard would then ask for a Reflector
// of another copy of @nestjs/core (vitest and plain Node share one copy).
const require = createRequire(import.meta.url);
const { Controller, Get, Module } = require('@nestjs/common') as typeof import('@nestjs/common');
const { APP_GUARD, NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
const { ThrottlerGuard, ThrottlerModule } = require('@nestjs/throttler') as typeof import('@nestjs/throttler');

@Controller()
class PingController {
  @Get()
  ping() {
    return 'ok';
  }
}

// Long timeouts: the test counts admissions, not outages (a decision past a short deadline would
// come from onStoreDown). Eight Nest apps on two cores make every call slow.
async function storeFor(spec: WorkerSpec): Promise<CacheStore> {
  if (spec.driver === 'redis') {
    return (await import('@larder/redis')).createRedisStore({ url: spec.redisUrl, commandTimeoutMs: 60_000 });
  }
  if (spec.driver === 'memcached') {
    return (await import('@larder/memcached')).createMemcachedStore({ servers: spec.memcachedServers, timeout: '60s' });
  }
  return (await import('@larder/dynamodb')).createDynamoDbStore({ ...spec.dynamodb, timeout: '60s' });
}

async function serve(spec: WorkerSpec): Promise<{ app: INestApplication; cache: Cache; port: number }> {
  const cache = new Cache({ store: storeFor(spec), prefix: spec.prefix, timeout: '60s' });
  await cache.getStore();
  @Module({
    imports: [
      ThrottlerModule.forRoot({
        throttlers: [{ ttl: 60_000, limit: FLEET_LIMIT }],
        storage: new LarderThrottlerStorage(cache),
      }),
    ],
    controllers: [PingController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, cache, port: Number(new URL(await app.getUrl()).port) };
}

if (process.env.LARDER_NEST_FLEET) {
  const specs = JSON.parse(process.env.LARDER_NEST_FLEET) as WorkerSpec[];
  Promise.all(specs.map(serve)).then(
    (apps) => {
      process.send?.({ ports: apps.map((a) => a.port) });
      process.on('SIGTERM', () => {
        Promise.all(apps.map(async ({ app, cache }) => [await app.close(), await cache.close()])).finally(() =>
          process.exit(0),
        );
      });
    },
    (error: Error) => process.send?.({ error: `${error.name}: ${error.message}` }),
  );
}
