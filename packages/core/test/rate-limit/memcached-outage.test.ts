import { type MemcachedCluster, startMemcached } from '@larder/dev-services';
import { createMemcachedStore } from '@larder/memcached';
import { afterAll, beforeAll, describe } from 'vitest';
import { Cache } from '../../src/cache/cache';
import { outageScenarios, TIMEOUT_MS } from './outage';

describe('rate limits with memcached down', () => {
  let servers: MemcachedCluster;
  beforeAll(async () => {
    servers = await startMemcached();
  });
  afterAll(async () => {
    await servers?.stop();
  });
  outageScenarios(() => ({
    cache: () =>
      new Cache({
        store: createMemcachedStore({ servers: [servers.nodes[0]!.address] }),
        prefix: 'down:',
        timeout: TIMEOUT_MS,
      }),
    pid: () => servers.nodes[0]!.pid as number,
    kill: () => servers.kill(0),
    restart: () => servers.restart(0),
  }));
});
