// The store of one app instance in the cross-process rate-limit tests (run inside the instance).
import type { CacheStore } from '@larder/core/driver';
import type { WorkerSpec } from './fleet';

/**
 * The store of `s`. Long timeouts unless `driverDefaults`: the fleet tests count admissions, not
 * outages. On a loaded 2-core runner a call can stall past a driver's default deadline (memcached's
 * 1 s); the decision would then come from onStoreDown ('closed') and the count would mean nothing.
 * DynamoDB Local can take seconds per request under 200 at once. The store-down tests take the
 * driver's own timeouts (`driverDefaults`): a decision must not wait for them.
 */
export async function storeFor(s: WorkerSpec, driverDefaults = false): Promise<CacheStore> {
  const timeout = driverDefaults ? {} : { timeout: '60s' as const };
  if (s.driver === 'redis')
    return (await import('@larder/redis')).createRedisStore({
      url: s.redisUrl,
      ...(driverDefaults ? {} : { commandTimeoutMs: 60_000 }),
    });
  if (s.driver === 'memcached')
    return (await import('@larder/memcached')).createMemcachedStore({ servers: s.memcachedServers, ...timeout });
  return (await import('@larder/dynamodb')).createDynamoDbStore({ ...s.dynamodb, ...timeout });
}
