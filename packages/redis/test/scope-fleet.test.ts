import { freezeProcess, type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkInstances, type Instance } from './barrier/harness';
import type { Op, Reply } from './barrier/protocol';

// Core's `Cache.scope(name).drop()` on a real redis-server: the L1 barrier's guarantee (no read that
// starts after drop() resolves returns an entry written before it) across OS processes
// (two caches in one process: scope.test.ts).
describe('scope().drop() on redis-server with L1s in OS processes', () => {
  let server: RedisServer;
  let instances: Instance[] = [];
  beforeAll(async () => {
    server = await startRedis();
    instances = await forkInstances(
      [1, 2].map(() => ({
        driver: 'redis' as const,
        prefix: 'scp:',
        redis: { url: server.url },
        l1: { invalidation: 'tracking' as const, lease: 1000 },
      })),
    );
  }, 30_000);
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await server?.stop();
  });

  it("a reader polling its L1, even one stopped (SIGSTOP) across the drop, never returns a scoped entry after the writer's drop() resolved", async () => {
    const [writer, reader] = instances as [Instance, Instance];
    for (const stop of [false, true]) {
      const value = `v-${stop}`;
      await writer.call({ op: 'scopeSet', scope: 'pages', key: 'page', value });
      await writer.call({ op: 'set', key: 'outside', value });
      await waitFor(async () => (await reader.call({ op: 'get', key: 'page' })).value === value);
      await reader.call({ op: 'loop', key: 'page' });
      // Its L1 answers the loop before the drop.
      await waitFor(async () => ((await reader.call({ op: 'state' })).value as { hits: number }).hits > 2);
      if (stop) await freezeProcess(reader.pid);
      let dropped: Reply;
      try {
        dropped = await writer.call({ op: 'drop', scope: 'pages' });
      } finally {
        // Resumed, its timers (the read loop) run before it hears the invalidation: only the
        // barrier (the writer waited for its lease to lapse) keeps those reads from its old copy.
        if (stop) process.kill(reader.pid, 'SIGCONT');
      }
      let after: Op[] = [];
      await waitFor(async () => {
        const reads = (await reader.call({ op: 'reads' })).ops ?? [];
        after = [...after, ...reads.filter((read) => read.start > (dropped.end as number))];
        if (after.length < 5) await reader.call({ op: 'loop', key: 'page' });
        return after.length >= 5;
      });
      expect(after.filter((read) => read.value !== null)).toEqual([]);
      expect((await reader.call({ op: 'get', key: 'outside' })).value).toBe(value);
    }
  });
});
