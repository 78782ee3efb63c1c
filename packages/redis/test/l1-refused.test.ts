import { Cache } from '@larder/core';
import { type TopologyTraceEvent, topologyChannel } from '@larder/core/driver';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';

// A server that refuses tracking (here an ACL user without CLIENT; also Redis before 6) leaves the
// L1 down, so it is bypassed: reads stay correct, and the refusal is published, not swallowed.
describe('L1 tracking refused by the server', () => {
  let server: RedisServer;
  const events: TopologyTraceEvent[] = [];
  const onEvent = (event: unknown) => events.push(event as TopologyTraceEvent);

  beforeAll(async () => {
    server = await startRedis();
    await server.command('ACL', 'SETUSER', 'noclient', 'on', '>nc-pass', '~*', '&*', '+@all', '-client');
    topologyChannel.subscribe(onEvent);
  });
  afterAll(async () => {
    topologyChannel.unsubscribe(onEvent);
    await server?.stop();
  });

  for (const [name, options] of [
    ['on the command connection (single node)', {}],
    ['on a separate tracker (replica reads)', { readFrom: 'replica' as const }],
  ] as const) {
    it(`${name}: l1-refused names the reply, the L1 stays down and reads still work`, async () => {
      events.length = 0;
      const url = `redis://noclient:nc-pass@${server.host}:${server.port}`;
      const store = createRedisStore({ url, ...(options.readFrom ? { replicaUrls: [url], ...options } : {}) });
      const cache = new Cache({ store, prefix: 'refused', l1: { invalidation: 'tracking' } });
      try {
        await waitFor(() => events.find((e) => e.event === 'l1-refused'), { description: 'l1-refused published' });
        const refused = events.find((e) => e.event === 'l1-refused')!;
        expect(refused.driver).toBe('redis');
        expect(refused.reason).toMatch(/NOPERM/);
        expect((await cache.describeL1())?.state).toBe('down');
        await cache.set('k', 'v');
        expect(await cache.get('k')).toBe('v');
      } finally {
        await cache.close();
      }
    });
  }
});
