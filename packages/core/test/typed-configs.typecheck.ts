// Type tests of the typed driver registry, checked by `pnpm typecheck` (part of `pnpm test`):
// every line under `@ts-expect-error` must fail to compile (an unused one fails the check), and
// everything else must compile. The packed-tarball twin is consumers/fixtures/npm/ts-app.ts.
import { createMemcachedStore } from '@larder/memcached';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import {
  type CacheManagerConfig,
  createCacheManager,
  customDriver,
  defineConfig,
  type StoreConfig,
} from '../src/index';

const url = 'redis://127.0.0.1:6379';

// Store configs in a manager config are checked against their driver's entry in LarderDrivers.
export const good = defineConfig({
  default: 'main',
  ttl: '1h',
  stores: {
    main: { driver: 'redis', url, commandTimeoutMs: 500, ttl: '5m', onError: 'miss', readFrom: 'primary' },
    local: { driver: 'memory', maxEntries: 100, clone: false, ttl: 1000 },
    cluster: { driver: 'elasticache', configEndpoint: 'cfg:11211', discoveryInterval: '30s' },
    sessions: { driver: 'dynamodb', table: 'SessionTable', consistentRead: true },
    ready: createMemoryStore(),
    // The escape hatch: an `extend()` driver the registry does not list; only facade options are checked.
    files: { driver: customDriver('files'), root: '/tmp/cache', prefix: 'f:' },
  },
});

createCacheManager({
  stores: {
    // @ts-expect-error an unknown option of a registered driver
    main: { driver: 'redis', urll: url },
  },
});
createCacheManager({
  stores: {
    // @ts-expect-error a facade option of the wrong type
    main: { driver: 'redis', url, ttl: 'oops' },
  },
});
createCacheManager({
  stores: {
    // @ts-expect-error an option of another driver
    main: { driver: 'memory', url },
  },
});
createCacheManager({
  stores: {
    // @ts-expect-error a driver option of the wrong type
    local: { driver: 'memory', maxEntries: '100' },
  },
});
defineConfig({
  stores: {
    // @ts-expect-error a driver name neither registered nor marked with customDriver()
    files: { driver: 'files', root: '/tmp/cache' },
  },
});
defineConfig({
  stores: {
    // @ts-expect-error the escape hatch still checks the facade options
    files: { driver: customDriver('files'), onError: 'ignore' },
  },
});

// A config built apart keeps its driver literal with `satisfies`.
const apart = { driver: 'redis', url, readFrom: 'replica', replicaUrls: [url] } satisfies StoreConfig;
export const config: CacheManagerConfig = { stores: { apart } };
// @ts-expect-error `readFrom` is 'primary' or 'replica'
export const wrongReadFrom = { driver: 'redis', readFrom: 'nearest' } satisfies StoreConfig;

// The store factories take their own options, facade options keeping their types.
createRedisStore({ url, commandTimeoutMs: 500, ttl: '1m' });
// @ts-expect-error `commandTimeout` is not an option (`commandTimeoutMs` is)
createRedisStore({ url, commandTimeout: 500 });
// @ts-expect-error `ttl` is a number of ms or a duration such as '30s'
createRedisStore({ url, ttl: 'oops' });
createMemoryStore({ maxEntries: 10, prefix: 'm:' });
// @ts-expect-error an unknown option
createMemoryStore({ maxEntry: 10 });
export const memcached = createMemcachedStore({ servers: ['127.0.0.1:11211'], retries: 1 });
// @ts-expect-error `servers` is a list of host:port
export const badServers = createMemcachedStore({ servers: '127.0.0.1:11211' });
