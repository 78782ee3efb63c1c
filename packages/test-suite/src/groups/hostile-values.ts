import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { isLarderError, SerializationError, ValueTooLargeError } from '@larder/core';
import { describeError, expectError, uniqueKey } from '../helpers';
import type { CacheUnderTest } from '../options';
import type { GroupDefinition } from '../registry';

const TAG = '\u0000';

/** Values every driver must give back exactly, or refuse with `SerializationError`. */
function exactValues(): [string, unknown][] {
  const special: [string, unknown][] = [
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['-0', -0],
    ['an invalid Date', new Date(Number.NaN)],
    ['a Date', new Date('2024-02-29T12:34:56.789Z')],
    ['a BigInt', -(2n ** 70n)],
    ['a Buffer', Buffer.from([0, 1, 255])],
    ['a Uint8Array', Uint8Array.from([0, 1, 255])],
    ['an Int8Array', Int8Array.from([-128, 127])],
    ['a Uint8ClampedArray', Uint8ClampedArray.from([0, 255])],
    ['an Int16Array', Int16Array.from([-32768, 32767])],
    ['a Uint16Array', Uint16Array.from([65535])],
    ['an Int32Array', Int32Array.from([-(2 ** 31), 2 ** 31 - 1])],
    ['a Uint32Array', Uint32Array.from([2 ** 32 - 1])],
    ['a Float32Array', Float32Array.from([1.5, -0, Number.NaN])],
    ['a Float64Array', Float64Array.from([Math.PI, -0, Number.NaN, Number.NEGATIVE_INFINITY])],
    ['a BigInt64Array', BigInt64Array.from([-(2n ** 63n)])],
    ['a BigUint64Array', BigUint64Array.from([2n ** 64n - 1n])],
    ['a Map', new Map<unknown, unknown>([[1, 'one']])],
    ['a Set', new Set(['a', 1])],
    ['a plain object shaped like a tagged Date', { [TAG]: 'Date', v: 0 }],
    ['a plain object shaped like a tagged Map', { [TAG]: 'Map', v: [['a', 1]] }],
    ['a plain object shaped like a tagged Set', { [TAG]: 'Set', v: [1] }],
    ['a plain object shaped like a tagged BigInt', { [TAG]: 'Big', v: '1' }],
    ['a plain object shaped like tagged bytes', { [TAG]: 'Bin', v: 'AAE=' }],
    ['a plain object shaped like a tagged typed array', { [TAG]: 'Int32Array', v: 'AQAAAA==' }],
    ['a plain object shaped like a tagged number', { [TAG]: 'Num', v: 'NaN' }],
  ];
  const all: [string, unknown][] = [];
  for (const [name, value] of special) {
    all.push([name, value]);
    all.push([`${name} in an object`, { value, other: 1 }]);
    all.push([`${name} in an array`, [value, 'x']]);
    all.push([`${name} in a Map`, new Map<unknown, unknown>([['k', value]])]);
    all.push([`${name} in a Set`, new Set([value])]);
  }
  all.push(['undefined in an object', { a: undefined, b: 1 }]);
  all.push(['undefined in an array', [undefined, 1, undefined]]);
  return all;
}

/** Values every driver must refuse with `SerializationError`. */
function refusedValues(): [string, () => unknown][] {
  return [
    ['a function', () => () => 1],
    ['a symbol', () => Symbol('s')],
    ['a nested function', () => ({ a: [{ f: () => 1 }] })],
    ['a nested symbol', () => ({ a: new Map([['s', Symbol('s')]]) })],
    [
      'a cycle',
      () => {
        const value: Record<string, unknown> = { a: 1 };
        value.self = { back: value };
        return value;
      },
    ],
    ['an object nested 100,000 deep', () => nest(100_000, (inner) => ({ d: inner }))],
    ['an array nested 100,000 deep', () => nest(100_000, (inner) => [inner])],
    [
      'an object with a throwing getter',
      () => ({
        ok: 1,
        get broken(): never {
          throw new Error('getter failed');
        },
      }),
    ],
  ];
}

function nest(depth: number, wrap: (inner: unknown) => unknown): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

/** True if `a` and `b` are the same value: tells -0 from 0, typed-array classes, missing from undefined. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (ArrayBuffer.isView(a)) {
    const other = b as ArrayBufferView;
    const bytes = (view: ArrayBufferView) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    return a.byteLength === other.byteLength && bytes(a).equals(bytes(other));
  }
  if (a instanceof Map || a instanceof Set) {
    const left = [...(a as Map<unknown, unknown>).entries()];
    const right = [...(b as Map<unknown, unknown>).entries()];
    return (
      left.length === right.length &&
      left.every(([k, v], i) => sameValue(k, right[i]?.[0]) && sameValue(v, right[i]?.[1]))
    );
  }
  const keysA = Reflect.ownKeys(a);
  const keysB = Reflect.ownKeys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every(
    (k) =>
      Object.hasOwn(b, k) && sameValue((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]),
  );
}

/** Sets `value` over a sentinel: an exact round trip, or a SerializationError that leaves the sentinel. */
async function exactOrRefused(cache: CacheUnderTest, name: string, value: unknown): Promise<void> {
  const key = uniqueKey();
  await cache.set(key, 'previous');
  try {
    await cache.set(key, value);
  } catch (error) {
    assert.ok(
      isLarderError(error, 'E_SERIALIZATION'),
      `${name}: refused with ${describeError(error)}, not SerializationError`,
    );
    assert.equal(await cache.get(key), 'previous', `${name}: the previous value changed after a refused set`);
    return;
  }
  const got = await cache.get(key);
  assert.ok(sameValue(got, value), `${name}: came back as ${inspectShort(got)}`);
  assert.ok(sameValue((await cache.getMany([key]))[0], value), `${name}: getMany gave something else`);
}

function inspectShort(value: unknown): string {
  const text = inspect(value, { depth: 4 });
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** Hostile values: a faithful round trip or a typed error, never a forged value, and nothing lost. */
export const hostileValues: GroupDefinition = {
  title: 'hostile values round-trip exactly or are refused with a typed error',
  define(t) {
    t.test(
      'special numbers, invalid Dates, typed arrays, nested undefined, forged tags: exact or refused',
      async (ctx) => {
        const cache = await ctx.cache();
        const failures: string[] = [];
        for (const [name, value] of exactValues()) {
          try {
            await exactOrRefused(cache, name, value);
          } catch (error) {
            failures.push(error instanceof assert.AssertionError ? error.message : `${name}: ${describeError(error)}`);
          }
        }
        assert.deepEqual(failures, [], `${failures.length} values changed on the way through`);
      },
    );

    t.test(
      'functions, symbols, cycles, 100,000-deep nesting, throwing getters: SerializationError, data intact',
      async (ctx) => {
        const cache = await ctx.cache();
        for (const [name, make] of refusedValues()) {
          const key = uniqueKey();
          await cache.set(key, { previous: true });
          await expectError(() => cache.set(key, make()), SerializationError, 'E_SERIALIZATION', `set(${name})`);
          await expectError(
            () => cache.add(uniqueKey(), make()),
            SerializationError,
            'E_SERIALIZATION',
            `add(${name})`,
          );
          await expectError(
            () => cache.setMany([[key, 'new'] as const, [uniqueKey(), make()] as const]),
            SerializationError,
            'E_SERIALIZATION',
            `setMany(${name})`,
          );
          assert.deepEqual(await cache.get(key), { previous: true }, `${name}: the previous value changed`);
        }
      },
    );

    t.test('an object over maxValueBytes gives ValueTooLargeError, data intact', async (ctx) => {
      const cache = await ctx.cache();
      const { maxValueBytes } = await ctx.capabilities();
      if (maxValueBytes > 32 * 1024 * 1024)
        ctx.skip(`maxValueBytes ${maxValueBytes} is too large to allocate in a test`);
      const key = uniqueKey();
      await cache.set(key, { previous: true });
      const rows = Array.from({ length: Math.ceil(maxValueBytes / 64) + 1 }, (_, i) => ({ i, text: 'x'.repeat(64) }));
      for (const [name, value] of [
        ['rows', rows],
        ['a Map of rows', new Map([['rows', rows]])],
        ['a Float64Array', new Float64Array(Math.ceil(maxValueBytes / 8) + 1)],
      ] as const) {
        await expectError(() => cache.set(key, value), ValueTooLargeError, 'E_VALUE_TOO_LARGE', `set(${name})`);
        assert.deepEqual(await cache.get(key), { previous: true }, `${name}: the previous value changed`);
      }
    });
  },
};
