import { type DriverImporter, registerDriverEnvironment } from '@larder/core/driver';
import { larderEnv as dynamodb } from '@larder/dynamodb/env';
import { larderEnv as memcached } from '@larder/memcached/env';
import { larderEnv as memory } from '@larder/memory/env';
import { larderEnv as redis } from '@larder/redis/env';

/**
 * The CLI depends on every built-in driver, so it hands them to core itself: their environment
 * modules (for configFromEnv) and an importer that resolves from the CLI's own location. Core
 * resolving from its location would miss them where the layout is strict (pnpm, npx): core
 * depends on no driver.
 */
export function registerBundledDrivers(): void {
  for (const environment of [memory, redis, memcached, dynamodb]) registerDriverEnvironment(environment);
}

/** Loads a driver package as the CLI sees it (see registerBundledDrivers). */
export const importDriver: DriverImporter = (packageName) => import(packageName);
