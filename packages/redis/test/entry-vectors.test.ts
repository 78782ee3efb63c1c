import { type RedisServer, startRedis } from '@larder/dev-services';
import { ENTRY_VECTORS } from '@larder/test-suite';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET_TAGGED } from '../src/tag-commands';
import { SET_TAGGED } from '../src/tag-write';

// The stored entry format's test vectors (shared with core's parser test) against the Lua that
// reads and writes tagged entries, on a real redis-server: the scripts and core agree on the format.
describe('the Redis scripts and the stored entry format', () => {
  let server: RedisServer;
  let redis: Redis;
  const prefix = 'vectors:tag:';

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  const read = (key: string) => redis.eval(GET_TAGGED.lua, 1, key, prefix) as Promise<(string | number | null)[]>;

  ENTRY_VECTORS.forEach((vector, i) => {
    it(`the read script parses: ${vector.name}`, async () => {
      const key = `vectors:read:${i}`;
      const counters = vector.tags.map((tag) => prefix + tag);
      await redis.set(key, vector.stored);
      if (counters.length > 0) await redis.del(...counters);
      if (vector.tags.length === 0) {
        expect(await read(key)).toEqual([vector.stored, 0]);
        return;
      }
      // No counters: the script names the entry's counters (one per tag, in order), all missing.
      expect(await read(key)).toEqual([vector.stored, vector.tags.length, ...vector.tags.map(() => null)]);
      // Each counter at the version the entry recorded: the script found the same tags and versions.
      for (const [j, counter] of counters.entries()) await redis.set(counter, String(vector.versions[j]));
      expect(await read(key)).toEqual([vector.stored, -1]);
      // One counter bumped: the script answers every counter, the bumped one as it is now.
      const bumped = String((vector.versions[0] as number) + 1);
      await redis.set(counters[0] as string, bumped);
      const now = vector.versions.map((version, j) => (j === 0 ? bumped : String(version)));
      expect(await read(key)).toEqual([vector.stored, vector.tags.length, ...now]);
    });

    if (vector.tags.length === 0 || vector.writtenAt === undefined) return;
    it(`the write script writes: ${vector.name}`, async () => {
      const key = `vectors:write:${i}`;
      const counters = vector.tags.map((tag) => prefix + tag);
      for (const [j, counter] of counters.entries()) await redis.set(counter, String(vector.versions[j]));
      const head = vector.stored.slice(0, vector.stored.indexOf('\u0001', 1) + 1);
      // The start of counters it makes; per counter: key, tag, expiry ('' none, not checked);
      // then the entry's expiry ('' none) and its counters' indices (from 1, two bytes of 7 bits
      // each), its head and its value.
      const perCounter = vector.tags.flatMap((tag, j) => [counters[j] as string, tag, '']);
      const indices = counters.map((_, j) => String.fromCharCode((j + 1) >> 7, (j + 1) & 127)).join('');
      const entry = [`:${indices}`, head, vector.body];
      await redis.eval(SET_TAGGED.lua, 1, key, String(counters.length), '1', ...perCounter, ...entry);
      expect(await redis.get(key)).toBe(vector.stored);
    });
  });
});
