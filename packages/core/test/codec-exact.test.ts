import assert from 'node:assert/strict';
import { Cache, jsonCodec, SerializationError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';

// assert/strict's deepEqual tells -0 from 0, a Buffer from a Uint8Array, an Int32Array from a
// plain object and a missing property from an undefined one: an exact round trip or a failure.
const roundTrip = (value: unknown): unknown => jsonCodec.decode(jsonCodec.encode(value, 'k'), 'k');
const viaBytes = (value: unknown): unknown => {
  const payload = jsonCodec.encode(value, 'k');
  return jsonCodec.decode(typeof payload === 'string' ? new TextEncoder().encode(payload) : payload, 'k');
};

const typedArrays: [string, unknown][] = [
  ['Int8Array', Int8Array.from([-128, -1, 0, 127])],
  ['Uint8Array', Uint8Array.from([0, 1, 255])],
  ['Uint8ClampedArray', Uint8ClampedArray.from([0, 128, 255])],
  ['Int16Array', Int16Array.from([-32768, 0, 32767])],
  ['Uint16Array', Uint16Array.from([0, 65535])],
  ['Int32Array', Int32Array.from([-(2 ** 31), 0, 2 ** 31 - 1])],
  ['Uint32Array', Uint32Array.from([0, 2 ** 32 - 1])],
  ['Float32Array', Float32Array.from([1.5, -0, Number.NaN, Number.POSITIVE_INFINITY])],
  ['Float64Array', Float64Array.from([Math.PI, -0, Number.NaN, Number.NEGATIVE_INFINITY])],
  ['BigInt64Array', BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 63n - 1n])],
  ['BigUint64Array', BigUint64Array.from([0n, 2n ** 64n - 1n])],
  ['empty Float64Array', new Float64Array(0)],
  ['a view into a larger buffer', new Int16Array(new Int16Array([1, 2, 3, 4]).buffer, 2, 2)],
  ['Buffer', Buffer.from([0, 1, 2, 255])],
];

const special: [string, unknown][] = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['-0', -0],
  ...typedArrays,
];

const nestedIn = (value: unknown): [string, unknown][] => [
  ['an object', { a: value, b: 1 }],
  ['an array', [value, 1]],
  ['a Map value', new Map([['k', value]])],
  ['a Map key', new Map([[value, 'v']])],
  ['a Set', new Set([value, 'x'])],
  ['deeper', { list: [{ m: new Map([['k', [value]]]) }] }],
];

describe('jsonCodec: exact round trips', () => {
  it.each(special)('%s at the top level', (_name, value) => {
    assert.deepEqual(roundTrip(value), value);
    assert.deepEqual(viaBytes(value), value);
  });

  for (const [name, value] of special) {
    it.each(nestedIn(value))(`${name} inside %s`, (_where, container) => {
      assert.deepEqual(roundTrip(container), container);
      assert.deepEqual(viaBytes(container), container);
    });
  }

  it('an invalid Date stays invalid, top level and nested', () => {
    const top = roundTrip(new Date(Number.NaN));
    assert.ok(top instanceof Date && Number.isNaN(top.getTime()), `got ${String(top)}`);
    const nested = roundTrip({ at: [new Date(Number.NaN)] }) as { at: Date[] };
    assert.ok(nested.at[0] instanceof Date && Number.isNaN(nested.at[0].getTime()));
  });

  it('undefined inside objects and arrays is kept (array holes come back as undefined)', () => {
    const value = { a: undefined, b: [undefined, 1, undefined], c: new Map([['k', undefined]]), d: 1 };
    assert.deepEqual(roundTrip(value), value);
    assert.deepEqual(roundTrip([undefined]), [undefined]);
    assert.deepEqual(roundTrip({ '\u0000': undefined }), { '\u0000': undefined });
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested.
    assert.deepEqual(roundTrip([1, , 3]), [1, undefined, 3]);
  });

  it('BigInt, Date, Map and Set still round-trip', () => {
    const value = { n: -5n, at: new Date(1), m: new Map<unknown, unknown>([[1n, new Set([new Date(2)])]]) };
    assert.deepEqual(roundTrip(value), value);
    assert.deepEqual(roundTrip(2n ** 100n), 2n ** 100n);
  });

  it('integers stay plain decimal text (backend counters), and so do other finite numbers', () => {
    expect(jsonCodec.encode(42, 'k')).toBe('42');
    expect(jsonCodec.encode(-7, 'k')).toBe('-7');
    expect(jsonCodec.encode(0, 'k')).toBe('0');
    expect(jsonCodec.encode(1.5, 'k')).toBe('1.5');
    expect(jsonCodec.encode(-0, 'k')).not.toBe('0');
  });
});

describe('jsonCodec: user data cannot forge a tagged value', () => {
  const TAG = '\u0000';
  const shapes: [string, unknown][] = [
    ['Date', { [TAG]: 'Date', v: 0 }],
    ['Map', { [TAG]: 'Map', v: [['a', 1]] }],
    ['Set', { [TAG]: 'Set', v: [1] }],
    ['Big', { [TAG]: 'Big', v: '1' }],
    ['Bin', { [TAG]: 'Bin', v: 'AAE=' }],
    ['a typed array', { [TAG]: 'Int32Array', v: 'AQAAAA==' }],
    ['a number', { [TAG]: 'Num', v: 'NaN' }],
    ['undefined', { [TAG]: 'U' }],
    ['an escaped object', { [TAG]: 'Obj', v: [['a', 1]] }],
    ['the tag key alone', { [TAG]: 'x' }],
    ['the tag key with other keys', { [TAG]: 'Date', v: 0, extra: true }],
    ['an unknown tag', { [TAG]: 'Nope', v: 1 }],
  ];
  for (const [name, shape] of shapes) {
    it(`a plain object shaped like ${name} comes back as that plain object`, () => {
      assert.deepEqual(roundTrip(shape), shape);
      assert.deepEqual(roundTrip({ nested: [shape] }), { nested: [shape] });
      assert.deepEqual(roundTrip(new Map([[shape, shape]])), new Map([[shape, shape]]));
      assert.deepEqual(roundTrip({ [TAG]: shape }), { [TAG]: shape });
    });
  }

  it('a forged shape inside a real tag stays plain', () => {
    const value = new Set([{ [TAG]: 'Date', v: 5 }, new Date(5)]);
    assert.deepEqual(roundTrip(value), value);
  });
});

describe('jsonCodec: refusals are typed', () => {
  it('a value nested 100,000 deep is refused with SerializationError, not a RangeError', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    expect(() => jsonCodec.encode(deep, 'the-key')).toThrow(SerializationError);
    let list: unknown = [];
    for (let i = 0; i < 100_000; i++) list = [list];
    expect(() => jsonCodec.encode(list, 'the-key')).toThrow(SerializationError);
  });

  it('a payload nested 100,000 deep does not decode to a RangeError', () => {
    const text = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    let result: unknown;
    try {
      result = jsonCodec.decode(text, 'k');
    } catch (error) {
      expect(error).toBeInstanceOf(SerializationError);
      return;
    }
    expect(Array.isArray(result)).toBe(true);
  });

  it('a throwing getter is refused with SerializationError carrying the cause', () => {
    const value = {
      get boom(): never {
        throw new Error('getter failed');
      },
    };
    const error = (() => {
      try {
        jsonCodec.encode({ nested: value }, 'the-key');
      } catch (caught) {
        return caught as SerializationError;
      }
    })();
    expect(error).toBeInstanceOf(SerializationError);
    expect(error?.message).toMatch(/the-key/);
  });

  it.each([
    ['top-level undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a nested symbol', { a: [Symbol('s')] }],
  ])('%s is refused with SerializationError', (_name, value) => {
    expect(() => jsonCodec.encode(value, 'the-key')).toThrow(SerializationError);
  });
});

describe('exact values through the facade (payload store)', () => {
  it.each([...special, ['forged Date', { '\u0000': 'Date', v: 0 }] as [string, unknown]])(
    '%s survives set/get',
    async (_name, value) => {
      const cache = new Cache({ store: createChaosStore(), prefix: 'p:' });
      await cache.set('k', { value, list: [value] });
      assert.deepEqual(await cache.get('k'), { value, list: [value] });
    },
  );

  it('a 100,000-deep value rejects with SerializationError and keeps the old value', async () => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'p:' });
    await cache.set('k', 'old');
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    await expect(cache.set('k', deep)).rejects.toBeInstanceOf(SerializationError);
    expect(await cache.get('k')).toBe('old');
  });
});

describe('jsonCodec: top-level bytes', () => {
  it('a Uint8Array comes back as a Uint8Array (not a Buffer) from any bytes a driver returns', () => {
    const value = Uint8Array.from([0, 1, 255]);
    const payload = jsonCodec.encode(value, 'k') as Uint8Array;
    // Drivers read bytes back as Buffers; Redis reads text first and only re-reads invalid UTF-8.
    assert.ok(Buffer.from(payload).toString('utf8').includes('\uFFFD'));
    assert.deepEqual(jsonCodec.decode(Buffer.from(payload), 'k'), value);
    const small = Uint8Array.from([65]);
    assert.ok(
      Buffer.from(jsonCodec.encode(small, 'k') as Uint8Array)
        .toString('utf8')
        .includes('\uFFFD'),
    );
  });
});
