import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CacheStore } from '@larder/core/driver';
import { uniqueKey } from '../helpers';
import type { SuiteContext } from '../options';
import type { GroupDefinition } from '../registry';

// The ceiling the group sets: values above the driver's item limit are stored in chunks (core README "Values").
const CEILING = '16mb';
const FIVE_MB = 5 * 1024 * 1024;

function assertSameBytes(actual: unknown, expected: Uint8Array, label: string): void {
  assert.ok(actual instanceof Uint8Array, `${label}: expected bytes, got ${Object.prototype.toString.call(actual)}`);
  assert.equal(actual.byteLength, expected.byteLength, `${label}: length`);
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${label}: bytes differ`);
}

/** A cache with the ceiling, the driver's store under it, and the driver's item limit. */
async function chunking(ctx: SuiteContext, prefix = ctx.uniquePrefix()) {
  const cache = await ctx.cacheAt(prefix, { maxValueBytes: CEILING });
  const driverStore = await (await ctx.cacheAt(prefix)).getStore();
  const caps = await ctx.capabilities();
  // A store that keeps values as given (rawValues) has no bytes to split: its own limit stands.
  const chunks = caps.rawValues !== true;
  return { cache, driverStore, itemBytes: caps.maxValueBytes, chunks, prefix };
}

/**
 * The chunk keys an index entry names, read straight from the driver (behind larder's back):
 * frame magic 0x1E 'L' 'V', flags 8, suffix length, suffix, count (u32 BE); chunks at `<key>~c<suffix>:<n>`.
 */
async function chunkNames(store: CacheStore, full: string): Promise<string[]> {
  const stored = await store.get(full);
  assert.ok(stored !== undefined, 'the index entry is stored');
  const bytes = Buffer.from(typeof stored === 'string' ? Buffer.from(stored, 'utf8') : stored);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x1e, 0x4c, 0x56, 8], 'the entry is a chunk index');
  const length = bytes[4] as number;
  const suffix = bytes.toString('latin1', 5, 5 + length);
  const count = bytes.readUInt32BE(5 + length);
  return Array.from({ length: count }, (_, i) => `${full}~c${suffix}:${i}`);
}

/** Values above the driver's item limit, stored in chunks under an index (the `maxValueBytes` ceiling). */
export const chunkedValues: GroupDefinition = {
  title: 'values above the item limit (chunked)',
  define(t) {
    t.test('5 MB of binary and 5 MB of text round-trip byte-exact, through get, getMany and remember', async (ctx) => {
      const { cache, itemBytes, chunks } = await chunking(ctx);
      if (!chunks && itemBytes < FIVE_MB)
        ctx.skip(`values kept as given (rawValues) up to ${itemBytes} bytes: no bytes to chunk`);
      const bytes = randomBytes(FIVE_MB);
      const key = uniqueKey();
      await cache.set(key, bytes, '5m');
      assertSameBytes(await cache.get(key), bytes, 'binary');
      const text = randomBytes(FIVE_MB / 2).toString('hex');
      const textKey = uniqueKey();
      await cache.set(textKey, text, '5m');
      assert.equal(await cache.get(textKey), text, 'text');
      const [many, missing] = await cache.getMany([key, uniqueKey()]);
      assertSameBytes(many, bytes, 'getMany');
      assert.equal(missing, undefined);
      const page = { html: text.slice(0, FIVE_MB - 64) };
      const loaded = await cache.remember(uniqueKey(), '5m', () => page);
      assert.deepEqual(loaded, page, 'remember');
      const rememberKey = uniqueKey();
      await cache.remember(rememberKey, '5m', () => page);
      let runs = 0;
      const again = await cache.remember(rememberKey, '5m', () => {
        runs++;
        return { html: 'other' };
      });
      assert.deepEqual(again, page, 'remember hit');
      assert.equal(runs, 0, 'the loader did not run again');
      await cache.deleteMany([key, textKey, rememberKey]);
    });

    t.test('a chunk deleted behind larder’s back reads as a miss, 0 corrupt reads in many tries', async (ctx) => {
      const { cache, driverStore, itemBytes, chunks, prefix } = await chunking(ctx);
      if (itemBytes >= FIVE_MB || !chunks)
        ctx.skip(`the store keeps these values whole (item limit ${itemBytes} bytes, or rawValues)`);
      const key = uniqueKey();
      const value = randomBytes(itemBytes + 1024);
      await cache.set(key, value, '5m');
      assertSameBytes(await cache.get(key), value, 'before');
      const names = await chunkNames(driverStore, `${prefix}${key}`);
      assert.ok(names.length >= 2, 'stored in at least two chunks');
      // The first (full-size) chunk: each read then fetches the index and the small last chunk.
      await driverStore.delete(names[0] as string);
      // Many reads, 50 at a time: DynamoDB Local answers slowly, so it gets fewer tries.
      const tries = (await ctx.driver()) === 'dynamodb' ? 1000 : 10_000;
      let corrupt = 0;
      for (let done = 0; done < tries; done += 50) {
        const reads = await Promise.all(Array.from({ length: 50 }, () => cache.get(key)));
        corrupt += reads.filter((read) => read !== undefined).length;
      }
      assert.equal(corrupt, 0, 'reads that were not a miss');
    });

    t.test(
      '50 concurrent writers of one chunked key: every parallel read is one whole value or a miss',
      async (ctx) => {
        const { cache, itemBytes, chunks } = await chunking(ctx);
        // Just above the item limit (two chunks); a store that keeps values whole (Redis: 512 MB items)
        // gets a smaller value and fewer readers: 1,000 reads of 256 KiB through Sentinel replicas
        // timed out on a loaded CI runner, and nothing is chunked there.
        const whole = itemBytes >= FIVE_MB || !chunks;
        const size = whole ? 64 * 1024 : Math.floor(itemBytes * 1.2);
        const key = uniqueKey();
        const reads: Promise<unknown>[] = [];
        const writes: Promise<void>[] = [];
        // 200 parallel readers: 1,000 reads of 1.2 MB (1.2 GB through the client's buffers) passed the
        // drivers' call timeouts on a CI runner (memcached 1 s, Redis 2 s), failing on time, not on bytes.
        const readers = 200;
        for (let i = 0; i < 50; i++) {
          writes.push(cache.set(key, Buffer.alloc(size, i), '5m'));
          for (let r = 0; r < readers / 50; r++) reads.push(cache.get(key));
        }
        // Settled, not raced: a failed write must not leave the reads' rejections unhandled.
        const [written, answered] = await Promise.all([Promise.allSettled(writes), Promise.allSettled(reads)]);
        for (const outcome of [...written, ...answered]) if (outcome.status === 'rejected') throw outcome.reason;
        for (const outcome of answered) {
          const read = (outcome as PromiseFulfilledResult<unknown>).value;
          if (read === undefined) continue;
          assert.ok(read instanceof Uint8Array && read.byteLength === size, 'a whole value');
          // One writer's bytes, compared natively (a JS loop over 1,000 reads of a MB takes seconds).
          assert.ok(Buffer.from(read).equals(Buffer.alloc(size, read[0] as number)), 'one writer’s bytes');
        }
        const last = (await cache.get(key)) as Uint8Array;
        assert.equal(last.byteLength, size, 'a whole value at the end');
        await cache.delete(key);
      },
    );

    t.test(
      'add of a chunked value is atomic on its index; increment of one is refused with E_CHUNKED_VALUE',
      async (ctx) => {
        const { cache, itemBytes, chunks } = await chunking(ctx);
        if (itemBytes >= FIVE_MB || !chunks) {
          ctx.skip(`the store keeps these values whole (item limit ${itemBytes} bytes, or rawValues)`);
        }
        const big = randomBytes(itemBytes + 1024);
        const key = uniqueKey();
        assert.equal(await cache.add(key, big), true, 'added');
        assert.equal(await cache.add(key, randomBytes(itemBytes + 1024)), false, 'a second add finds it');
        await assert.rejects(cache.increment(key), { code: 'E_CHUNKED_VALUE' });
        assertSameBytes(await cache.get(key), big, 'the value is unchanged');
        assert.equal(await cache.delete(key), true);
        assert.equal(await cache.get(key), undefined, 'deleted');
      },
    );
  },
};
