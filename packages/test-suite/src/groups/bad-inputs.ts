import assert from 'node:assert/strict';
import {
  InvalidArgumentError,
  InvalidKeyError,
  InvalidTtlError,
  SerializationError,
  ValueTooLargeError,
} from '@larder/core';
import { expectError, uniqueKey, utf8Bytes } from '../helpers';
import type { CacheUnderTest } from '../options';
import type { GroupDefinition } from '../registry';

// The suite feeds values the types forbid, on purpose.
const loose = <T>(value: unknown) => value as T;
const KEY_LIMIT_TESTED = 1024 * 1024;
const VALUE_LIMIT_TESTED = 32 * 1024 * 1024;

/** Every keyed operation, called with `key` (and valid other arguments). */
function keyedOperations(cache: CacheUnderTest, key: string): [string, () => Promise<unknown>][] {
  return [
    ['get', () => cache.get(key)],
    ['set', () => cache.set(key, 'x')],
    ['has', () => cache.has(key)],
    ['delete', () => cache.delete(key)],
    ['add', () => cache.add(key, 'x')],
    ['pull', () => cache.pull(key)],
    ['increment', () => cache.increment(key)],
    ['decrement', () => cache.decrement(key)],
    ['touch', () => cache.touch(key, '1m')],
    ['forever', () => cache.forever(key, 'x')],
    ['remember', () => cache.remember(key, '1m', () => 'x')],
    ['rememberForever', () => cache.rememberForever(key, () => 'x')],
    ['getMany', () => cache.getMany([uniqueKey(), key])],
    ['setMany', () => cache.setMany([[uniqueKey(), 'x'] as const, [key, 'x'] as const])],
    ['deleteMany', () => cache.deleteMany([uniqueKey(), key])],
  ];
}

/** Writes a sentinel value; returns a check that it is still there, unchanged. */
async function sentinel(cache: CacheUnderTest, key = uniqueKey('sentinel')) {
  await cache.set(key, { intact: true });
  return async (label: string) =>
    assert.deepEqual(await cache.get(key), { intact: true }, `${label}: stored data changed`);
}

function circular(): unknown {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

/** Bad inputs: each gives its typed error and leaves stored data intact. */
export const badInputs: GroupDefinition = {
  title: 'bad inputs give typed errors and leave data intact',
  define(t) {
    t.test('empty and non-string keys give InvalidKeyError in every operation', async (ctx) => {
      const cache = await ctx.cache();
      const check = await sentinel(cache);
      const bad: [string, unknown][] = [
        ["''", ''],
        ['123', 123],
        ['null', null],
        ['undefined', undefined],
        ['an object', { key: 'k' }],
        ['an array', ['k']],
        ['a symbol', Symbol('k')],
      ];
      for (const [label, key] of bad) {
        for (const [operation, run] of keyedOperations(cache, loose<string>(key))) {
          await expectError(run, InvalidKeyError, 'E_INVALID_KEY', `${operation}(${label})`);
        }
      }
      await check('after bad keys');
    });

    t.test('ill-formed UTF-16 keys (lone surrogates) give InvalidKeyError; they never share a key', async (ctx) => {
      const cache = await ctx.cache();
      // UTF-8 cannot encode a lone surrogate: backends would store it as U+FFFD, so 'x\uD800' and
      // 'x\uFFFD' would be the same stored key.
      const replaced = uniqueKey('surrogate');
      await cache.set(`${replaced}\uFFFD`, 'replacement character');
      const check = await sentinel(cache);
      const bad: [string, string][] = [
        ['a lone high surrogate at the end', `${replaced}\uD800`],
        ['a lone low surrogate', `${replaced}\uDC00x`],
        ['a reversed pair', `${replaced}\uDC00\uD800`],
      ];
      for (const [label, key] of bad) {
        for (const [operation, run] of keyedOperations(cache, key)) {
          await expectError(run, InvalidKeyError, 'E_INVALID_KEY', `${operation}(${label})`);
        }
      }
      assert.equal(await cache.get(`${replaced}\uFFFD`), 'replacement character', 'the U+FFFD key is intact');
      // A well-formed pair is a valid key.
      await cache.set(`${replaced}\uD83D\uDE00`, 'emoji');
      assert.equal(await cache.get(`${replaced}\uD83D\uDE00`), 'emoji', 'a surrogate pair key');
      await check('after ill-formed keys');
    });

    t.test(
      'a key longer than maxKeyBytes (counted in UTF-8 bytes, prefix included) gives InvalidKeyError',
      async (ctx) => {
        const prefix = ctx.uniquePrefix();
        const cache = await ctx.cacheAt(prefix);
        const { maxKeyBytes } = await ctx.capabilities();
        if (!Number.isFinite(maxKeyBytes) || maxKeyBytes > KEY_LIMIT_TESTED) {
          ctx.skip(`maxKeyBytes is ${maxKeyBytes}: no key limit to test below 1 MiB`);
        }
        const check = await sentinel(cache);
        const room = maxKeyBytes - utf8Bytes(prefix);
        const ascii = 'k'.repeat(room + 1);
        // Under the limit in characters, over it in bytes: '€' is 3 bytes in UTF-8.
        const multibyte = '€'.repeat(Math.floor(room / 3) + 1);
        assert.ok(multibyte.length <= room, 'test key setup');
        const huge = 'k'.repeat(maxKeyBytes * 2);
        for (const [label, key] of [
          ['ASCII, 1 byte over', ascii],
          ['multi-byte, over in bytes only', multibyte],
          ['twice the limit', huge],
        ] as const) {
          for (const [operation, run] of keyedOperations(cache, key)) {
            await expectError(run, InvalidKeyError, 'E_INVALID_KEY', `${operation}(${label} key)`);
          }
        }
        await check('after long keys');
        // The boundary itself: a full key of exactly maxKeyBytes is accepted.
        const fits = 'f'.repeat(room);
        await cache.set(fits, 'at the limit');
        assert.equal(await cache.get(fits), 'at the limit', 'a key of exactly maxKeyBytes with its prefix');
      },
    );

    t.test('undefined, functions, symbols and circular values give SerializationError; data intact', async (ctx) => {
      const cache = await ctx.cache();
      const key = uniqueKey();
      const check = await sentinel(cache, key);
      const bad: [string, unknown][] = [
        ['undefined', undefined],
        ['a function', () => 1],
        ['a symbol', Symbol('s')],
        ['a circular object', circular()],
        ['a nested function', { ok: 1, fn: () => 1 }],
        ['a nested symbol', [1, Symbol('nested')]],
        [
          'a nested circular array',
          (() => {
            const list: unknown[] = [1];
            list.push({ list });
            return list;
          })(),
        ],
      ];
      const fresh = uniqueKey('fresh');
      for (const [label, value] of bad) {
        await expectError(() => cache.set(key, value), SerializationError, 'E_SERIALIZATION', `set(${label})`);
        await expectError(() => cache.add(fresh, value), SerializationError, 'E_SERIALIZATION', `add(${label})`);
        await expectError(() => cache.forever(key, value), SerializationError, 'E_SERIALIZATION', `forever(${label})`);
        await expectError(
          () => cache.setMany([[fresh, 'ok'] as const, [key, value] as const]),
          SerializationError,
          'E_SERIALIZATION',
          `setMany(${label})`,
        );
        await check(label);
        assert.equal(await cache.has(fresh), false, `${label}: a failed add/setMany wrote a key`);
      }
    });

    t.test('a value larger than maxValueBytes gives ValueTooLargeError; data intact', async (ctx) => {
      const cache = await ctx.cache();
      const caps = await ctx.capabilities();
      if (!Number.isFinite(caps.maxValueBytes) || caps.maxValueBytes > VALUE_LIMIT_TESTED) {
        ctx.skip(`maxValueBytes is ${caps.maxValueBytes}: too large to allocate in a test`);
      }
      const key = uniqueKey();
      const check = await sentinel(cache, key);
      const fresh = uniqueKey('fresh');
      // JSON string: 2 quote bytes + maxValueBytes - 1 characters = 1 byte over; binary: marker byte + bytes.
      // With uncoded values (capabilities.rawValues) the store measures size its own way: only clear excess counts.
      const bad: [string, unknown][] = [
        ...(caps.rawValues
          ? []
          : ([
              ['a string 1 byte over', 'z'.repeat(caps.maxValueBytes - 1)],
              ['binary 1 byte over', Buffer.alloc(caps.maxValueBytes)],
            ] as [string, unknown][])),
        [
          'an object far over',
          { list: Array.from({ length: 3 }, () => 'w'.repeat(Math.ceil(caps.maxValueBytes / 2))) },
        ],
      ];
      for (const [label, value] of bad) {
        const error = await expectError(
          () => cache.set(key, value),
          ValueTooLargeError,
          'E_VALUE_TOO_LARGE',
          `set(${label})`,
        );
        assert.equal((error as ValueTooLargeError).limit, caps.maxValueBytes, `${label}: error.limit`);
        assert.ok((error as ValueTooLargeError).size > caps.maxValueBytes, `${label}: error.size`);
        await expectError(() => cache.add(fresh, value), ValueTooLargeError, 'E_VALUE_TOO_LARGE', `add(${label})`);
        await expectError(
          () => cache.setMany([[fresh, 'ok'] as const, [key, value] as const]),
          ValueTooLargeError,
          'E_VALUE_TOO_LARGE',
          `setMany(${label})`,
        );
        await check(label);
        assert.equal(await cache.has(fresh), false, `${label}: a failed add/setMany wrote a key`);
      }
    });

    t.test(
      "negative, zero, NaN, Infinity and malformed TTLs ('abc', '', '-5s') give InvalidTtlError; data intact",
      async (ctx) => {
        const cache = await ctx.cache();
        const key = uniqueKey();
        const counter = uniqueKey('counter');
        const check = await sentinel(cache, key);
        await cache.set(counter, 5);
        const fresh = uniqueKey('fresh');
        const bad: unknown[] = [
          -1,
          0,
          -0,
          Number.NaN,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          'abc',
          '',
          '-5s',
          '10 parsecs',
          '0s',
          { ms: 5 },
        ];
        for (const ttl of bad) {
          const label = typeof ttl === 'string' ? `'${ttl}'` : typeof ttl === 'object' ? 'an object' : String(ttl);
          const t = loose<number>(ttl);
          for (const [operation, run] of [
            ['set', () => cache.set(key, 'changed', t)],
            ['add', () => cache.add(fresh, 'x', t)],
            ['setMany', () => cache.setMany([[fresh, 'x'] as const, [key, 'changed'] as const], t)],
            ['increment', () => cache.increment(counter, 1, t)],
            ['decrement', () => cache.decrement(counter, 1, t)],
            ['touch', () => cache.touch(key, t)],
            ['remember', () => cache.remember(fresh, t, () => 'x')],
          ] as const) {
            await expectError(run, InvalidTtlError, 'E_INVALID_TTL', `${operation} with TTL ${label}`);
          }
          await check(`TTL ${label}`);
          assert.equal(await cache.get(counter), 5, `TTL ${label}: counter changed`);
          assert.equal(await cache.has(fresh), false, `TTL ${label}: a failed write created a key`);
        }
      },
    );

    t.test(
      'increment by a non-integer (1.5, NaN, Infinity, "1", 2^53) rejects with InvalidArgumentError (E_INVALID_ARGUMENT); counter intact',
      async (ctx) => {
        const cache = await ctx.cache();
        const counter = uniqueKey('counter');
        await cache.set(counter, 5);
        const missing = uniqueKey('missing');
        for (const by of [1.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null, 2 ** 53]) {
          const label = typeof by === 'string' ? `'${by}'` : String(by);
          for (const [what, run] of [
            [`increment by ${label}`, () => cache.increment(counter, loose<number>(by))],
            [`decrement by ${label}`, () => cache.decrement(counter, loose<number>(by))],
            [`increment of a missing key by ${label}`, () => cache.increment(missing, loose<number>(by))],
          ] as const) {
            await expectError(run, InvalidArgumentError, 'E_INVALID_ARGUMENT', what);
          }
          assert.equal(await cache.get(counter), 5, `increment by ${label}: counter changed`);
          assert.equal(await cache.has(missing), false, `increment by ${label}: created a key`);
        }
      },
    );
  },
};
