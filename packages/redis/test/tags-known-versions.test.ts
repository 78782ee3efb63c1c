import { Cache } from '@larder/core';
import { type RedisServer, startRedis, waitFor, watchRedis } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../src/index';
import { SET_TAGGED } from '../src/tag-write';
import { commandCalls } from './helpers';

// A tagged write whose tag versions this process read in its L1's current tag epoch records them
// without asking Redis: one plain SET instead of the tag script. Safe in every case (an older
// version reads as invalidated, never as current), and current while the tracking L1 hears every
// change of a counter: another instance's invalidation, a DEL, an expiry.

const PREFIX = 'known:';
const tiered = (url: string) =>
  new Cache({ store: createRedisStore({ url }), prefix: PREFIX, l1: { invalidation: 'tracking' } });
const up = (cache: Cache) => waitFor(async () => (await cache.describeL1())?.state === 'up', { description: 'L1 up' });

describe('tagged writes with versions known from the L1 (Redis tracking)', () => {
  let server: RedisServer;
  let admin: Redis;
  let writer: Cache;
  let other: Cache;
  /** No L1: reads every entry from Redis with its tags checked there. */
  let plain: Cache;

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
    writer = tiered(server.url);
    other = tiered(server.url);
    plain = new Cache({ store: createRedisStore({ url: server.url }), prefix: PREFIX });
    await Promise.all([up(writer), up(other)]);
  });
  afterAll(async () => {
    admin?.disconnect();
    await Promise.all([writer?.close(), other?.close(), plain?.close()]);
    await server?.stop();
  });

  /**
   * What Redis ran while `run` ran (MONITOR): calls of the tag script, and the clients' own SETs of
   * entries. Counted by name, not from INFO: the L1s' lease renewals (a compare-and-set script
   * every leaseMs / 3) would land in the count now and then.
   */
  async function counted(run: () => Promise<void>): Promise<{ tagScripts: number; entrySets: number }> {
    const monitor = await watchRedis(server);
    const marker = `counted-${Math.random()}`;
    const ended = () => monitor.seen.some(({ args }) => args[0]?.toLowerCase() === 'echo' && args[1] === marker);
    try {
      await run();
      await admin.echo(marker);
      await waitFor(ended, { description: 'the monitor saw every command' });
    } finally {
      monitor.close();
    }
    let [tagScripts, entrySets] = [0, 0];
    for (const { args, source } of monitor.seen) {
      if (source === 'lua') continue; // a script's own commands
      const [name, first] = [String(args[0]).toLowerCase(), String(args[1])];
      if ((name === 'evalsha' && first === SET_TAGGED.sha) || (name === 'eval' && first === SET_TAGGED.lua))
        tagScripts++;
      if (name === 'set' && first.startsWith(PREFIX) && !first.includes('__larder')) entrySets++;
    }
    return { tagScripts, entrySets };
  }

  /** Tagged writes until one goes without the script (the counters made, their versions learned). */
  async function warm(tags: string[], key: string): Promise<void> {
    await waitFor(
      async () => {
        const before = await commandCalls(server, 'evalsha');
        await writer.tags(tags).set(key, 'warm', '1m');
        return (await commandCalls(server, 'evalsha')) === before;
      },
      { description: 'a tagged write without the tag script' },
    );
  }

  it('sends one plain SET per tagged write once the versions are known, and every instance reads the entries back', async () => {
    await warm(['a', 'b'], 'warm-ab');
    const seen = await counted(async () => {
      for (let i = 0; i < 50; i++) await writer.tags(['a', 'b']).set(`k${i}`, { i }, '1m');
    });
    expect(seen).toEqual({ tagScripts: 0, entrySets: 50 });
    for (let i = 0; i < 50; i++) {
      expect(await plain.get(`k${i}`)).toEqual({ i });
      expect(await other.get(`k${i}`)).toEqual({ i });
    }
    // The versions are the tags' own: invalidating one drops them all, everywhere.
    await other.invalidateTags(['b']);
    for (let i = 0; i < 50; i++) expect(await plain.get(`k${i}`)).toBeUndefined();
  });

  it('a change of another tag forgets nothing else: writes with known tags stay one plain SET', async () => {
    await warm(['f'], 'warm-f');
    await other.invalidateTags(['unrelated']);
    const seen = await counted(async () => {
      for (let i = 0; i < 10; i++) await writer.tags(['f']).set(`f${i}`, i, '1m');
    });
    expect(seen).toEqual({ tagScripts: 0, entrySets: 10 });
    for (let i = 0; i < 10; i++) expect(await plain.get(`f${i}`)).toBe(i);
  });

  it("a write after another instance's invalidateTags resolved records the new version: it reads back", async () => {
    await warm(['c'], 'warm-c');
    await other.invalidateTags(['c']);
    const seen = await counted(() =>
      writer
        .tags(['c'])
        .set('after-drop', 'new', '1m')
        .then(() => {}),
    );
    // The script reads the new version (with a tracking L1, the entry's SET follows it: tag-write.ts).
    expect(seen).toEqual({ tagScripts: 1, entrySets: 1 });
    expect(await plain.get('after-drop')).toBe('new');
    expect(await other.get('after-drop')).toBe('new');
  });

  it('a counter deleted behind its back: once the L1 heard it, writes make it again and read back', async () => {
    await warm(['d'], 'warm-d');
    await admin.del(`${PREFIX}__larder:tag:d`);
    await waitFor(
      async () => {
        await writer.tags(['d']).set('after-del', 'v', '1m');
        return (await plain.get('after-del')) === 'v';
      },
      { timeoutMs: 2000, description: 'a tagged write readable after the counter was deleted' },
    );
    for (let i = 0; i < 20; i++) {
      await writer.tags(['d']).set(`del${i}`, i, '1m');
      expect(await plain.get(`del${i}`)).toBe(i);
    }
  });

  it('a counter is extended by the script before it could lapse: every short-lived write reads back', async () => {
    // TTL 300 ms: counters live 600 ms and are extended once less than 300 ms is left.
    await writer.tags(['short']).set('first', 0, 300);
    const [evalsha, set] = [await commandCalls(server, 'evalsha'), await commandCalls(server, 'set')];
    const started = Date.now();
    let i = 0;
    while (Date.now() - started < 1500) {
      await writer.tags(['short']).set(`s${++i}`, i, 300);
      expect(await plain.get(`s${i}`)).toBe(i);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Both ways were taken: plain SETs while the counter outlived the entry, the script to extend it.
    expect(await commandCalls(server, 'evalsha')).toBeGreaterThan(evalsha + 1);
    expect(await commandCalls(server, 'set')).toBeGreaterThan(set + 5);
  });
});

describe('tagged writes without an L1', () => {
  it('ask Redis for the versions every time (the script): nothing tells them of a change', async () => {
    const server = await startRedis();
    const plain = new Cache({ store: createRedisStore({ url: server.url }), prefix: PREFIX });
    try {
      await plain.tags(['e']).set('p0', 0, '1m');
      const evalsha = await commandCalls(server, 'evalsha');
      for (let i = 0; i < 10; i++) await plain.tags(['e']).set(`p${i}`, i, '1m');
      expect(await commandCalls(server, 'evalsha')).toBe(evalsha + 10);
    } finally {
      await plain.close();
      await server.stop();
    }
  });
});
