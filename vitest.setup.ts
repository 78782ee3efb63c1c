import { registerDriver } from '@larder/core';
import type { DriverEnvironment, DriverModule } from '@larder/core/driver';
import { larderEnv as dynamodb } from '@larder/dynamodb/env';
import { larderEnv as memcached } from '@larder/memcached/env';
import { larderEnv as memory } from '@larder/memory/env';
import { larderEnv as redis } from '@larder/redis/env';

// Every test process: managers and configFromEnv use the drivers' source modules (see
// vitest.config.ts), loaded on first use through vitest's aliases. Left alone, larder would find
// the built packages from the working directory, and with them a second copy of core.
const drivers: [DriverEnvironment, () => Promise<DriverModule>][] = [
  [memory, () => import('@larder/memory')],
  [redis, () => import('@larder/redis')],
  [memcached, () => import('@larder/memcached')],
  [dynamodb, () => import('@larder/dynamodb')],
];
for (const [environment, load] of drivers) {
  registerDriver({ driver: environment.driver, aliases: Object.keys(environment.aliases ?? {}), environment, load });
}
