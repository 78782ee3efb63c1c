import assert from 'node:assert/strict';
import { uniqueKey } from '../helpers';
import type { CacheUnderTest } from '../options';
import type { GroupDefinition } from '../registry';

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

async function roundTrip(cache: CacheUnderTest, value: unknown, label: string): Promise<unknown> {
  const key = uniqueKey();
  await cache.set(key, value);
  const got = await cache.get(key);
  assert.deepEqual(got, value, `${label}: get`);
  assert.deepEqual((await cache.getMany([key]))[0], value, `${label}: getMany`);
  return got;
}

function assertBytes(actual: unknown, expected: Uint8Array, label: string): void {
  assert.ok(actual instanceof Uint8Array, `${label}: expected bytes, got ${Object.prototype.toString.call(actual)}`);
  assert.equal(actual.byteLength, expected.byteLength, `${label}: length`);
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${label}: bytes differ`);
}

/** Values of every type the default codec keeps. */
export const values: GroupDefinition = {
  title: 'value types',
  define(t) {
    t.test('strings: empty, ASCII, unicode, emoji, astral, combining, control chars, lone surrogate', async (ctx) => {
      const cache = await ctx.cache();
      const strings = [
        '',
        ' ',
        'plain ascii',
        '42',
        'true',
        'null',
        '{"looks":"like json"}',
        'ünïcødé – 日本語 – العربية',
        '🙂👍🏽👨‍👩‍👧‍👦',
        '𝌆 astral 𝟘𝟙',
        'e\u0301 combining',
        '\u0000\u0001\t\n\r\u001f\u007f',
        '\ud800 lone surrogate',
        'x'.repeat(10_000),
      ];
      for (const [i, text] of strings.entries()) {
        const got = await roundTrip(cache, text, `string #${i}`);
        assert.equal(typeof got, 'string', `string #${i} stays a string`);
      }
    });

    t.test('numbers: 0, negative, floats, large and tiny, safe-integer bounds', async (ctx) => {
      const cache = await ctx.cache();
      const numbers = [
        0,
        1,
        -1,
        42,
        1.5,
        -0.25,
        0.1 + 0.2,
        Math.PI,
        1e21,
        1e300,
        5e-324,
        Number.MAX_SAFE_INTEGER,
        Number.MIN_SAFE_INTEGER,
      ];
      for (const n of numbers) {
        const got = await roundTrip(cache, n, `number ${n}`);
        assert.equal(typeof got, 'number', `number ${n} stays a number`);
      }
    });

    t.test('booleans and null', async (ctx) => {
      const cache = await ctx.cache();
      for (const value of [true, false, null]) await roundTrip(cache, value, String(value));
    });

    t.test('nested objects and arrays', async (ctx) => {
      const cache = await ctx.cache();
      await roundTrip(cache, {}, 'empty object');
      await roundTrip(cache, [], 'empty array');
      await roundTrip(
        cache,
        { a: [1, 'two', { three: [3, null, true] }], b: { c: { d: { e: 'deep' } } }, 'key with spaces': 'ü' },
        'nested',
      );
      await roundTrip(cache, [[[]], [{}], [1, [2, [3]]]], 'nested arrays');
      let deep: unknown = 'leaf';
      for (let i = 0; i < 50; i++) deep = { child: deep, i };
      await roundTrip(cache, deep, '50 levels');
    });

    t.test('Date, top-level and nested', async (ctx) => {
      const cache = await ctx.cache();
      const date = new Date('2024-02-29T12:34:56.789Z');
      const got = await roundTrip(cache, date, 'Date');
      assert.ok(got instanceof Date, 'a Date instance');
      const nested = (await roundTrip(cache, { at: date, list: [date] }, 'nested Date')) as { at: unknown };
      assert.ok(nested.at instanceof Date, 'nested Date instance');
    });

    t.test('binary: Buffer and Uint8Array with all 256 byte values, top-level and nested, empty', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      await cache.set(key, Buffer.from(ALL_BYTES));
      assertBytes(await cache.get(key), ALL_BYTES, 'top-level Buffer');
      await cache.set(key, ALL_BYTES);
      assertBytes(await cache.get(key), ALL_BYTES, 'top-level Uint8Array');
      assertBytes((await cache.getMany([key]))[0], ALL_BYTES, 'getMany of bytes');
      await cache.set(key, Buffer.alloc(0));
      assertBytes(await cache.get(key), new Uint8Array(0), 'empty Buffer');
      const reversed = Uint8Array.from(ALL_BYTES).reverse();
      await cache.set(key, { file: Buffer.from(reversed), name: 'x' });
      const nested = (await cache.get(key)) as { file: unknown; name: string };
      assertBytes(nested.file, reversed, 'nested Buffer');
      assert.equal(nested.name, 'x');
      const utf8Lookalike = Buffer.from('"looks like a JSON string"');
      await cache.set(key, utf8Lookalike);
      assertBytes(await cache.get(key), utf8Lookalike, 'bytes that look like JSON text');
    });

    t.test('Map and Set', async (ctx) => {
      const cache = await ctx.cache();
      const map = new Map<unknown, unknown>([
        ['a', 1],
        [2, { b: [3] }],
      ]);
      const got = await roundTrip(cache, map, 'Map');
      assert.ok(got instanceof Map);
      const set = new Set(['x', 1, null]);
      assert.ok((await roundTrip(cache, set, 'Set')) instanceof Set);
      await roundTrip(cache, { m: new Map([['k', new Set([1])]]) }, 'nested Map of Set');
    });
  },
};

/** Values are copies: mutating what was stored, or what was read, never changes the cache. */
export const isolation: GroupDefinition = {
  title: 'isolation from mutation',
  define(t) {
    t.test('a stored value is isolated from later mutation of the original and of the result', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      const value = { list: [1, 2], bytes: Buffer.from([1, 2, 3]) };
      await cache.set(key, value);
      value.list.push(3);
      value.bytes[0] = 99;
      const got = (await cache.get(key)) as typeof value;
      assert.deepEqual(got.list, [1, 2]);
      assert.equal(got.bytes[0], 1);
      got.list.push(4);
      const bytes = ALL_BYTES.slice();
      await cache.set(`${key}-b`, bytes);
      const first = (await cache.get(`${key}-b`)) as Uint8Array;
      first[0] = 42;
      assert.deepEqual(((await cache.get(key)) as typeof value).list, [1, 2]);
      assert.equal(((await cache.get(`${key}-b`)) as Uint8Array)[0], 0, 'mutating a returned Buffer changed the cache');
    });
  },
};

/** Values near the backend's size limit. */
export const largeValues: GroupDefinition = {
  title: 'large values',
  define(t) {
    t.test('a 512 KiB string and 512 KiB of binary (or the most under maxValueBytes) round-trip', async (ctx) => {
      const cache = await ctx.cache();
      const caps = await ctx.capabilities();
      const size = Math.min(512 * 1024, caps.maxValueBytes - 1024);
      if (size <= 0) ctx.skip(`maxValueBytes ${caps.maxValueBytes} leaves no room`);
      const text = 'abcdefghij'.repeat(Math.ceil(size / 10)).slice(0, size - 2);
      const key = uniqueKey();
      await cache.set(key, text);
      assert.equal(await cache.get(key), text, 'large string');
      const bytes = Buffer.alloc(size - 1);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
      await cache.set(key, bytes);
      assertBytes(await cache.get(key), bytes, 'large binary');
    });

    t.test('a payload of exactly maxValueBytes is accepted (default JSON codec)', async (ctx) => {
      const cache = await ctx.cache();
      const { maxValueBytes } = await ctx.capabilities();
      if (maxValueBytes > 16 * 1024 * 1024)
        ctx.skip(`maxValueBytes ${maxValueBytes} is too large to allocate in a test`);
      // The JSON codec encodes a string as "..." (2 bytes of quotes) and binary as 1 marker byte + bytes.
      const key = uniqueKey();
      const text = 'y'.repeat(maxValueBytes - 2);
      await cache.set(key, text);
      assert.equal(((await cache.get(key)) as string | undefined)?.length, text.length, 'string at the limit');
      await cache.set(key, Buffer.alloc(maxValueBytes - 1, 7));
      assert.equal(
        ((await cache.get(key)) as Uint8Array | undefined)?.byteLength,
        maxValueBytes - 1,
        'binary at the limit',
      );
    });
  },
};
