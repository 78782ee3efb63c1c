import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { jsonCodec, SerializationError } from '@larder/core';
import { describe, expect, it } from 'vitest';
import type FastCheck from '../../test-suite/node_modules/fast-check';

// fast-check is a dependency of @larder/test-suite, not of core: resolve it from there (by path).
const fc = createRequire(import.meta.url)('../../test-suite/node_modules/fast-check') as typeof FastCheck;

// The codec encodes plain JSON data with a bare JSON.stringify and everything else through its
// replacer. These tests hold both paths to the same contract: an exact round trip
// (assert/strict tells -0 from 0 and a missing property from an undefined one).
const roundTrip = (value: unknown): unknown => jsonCodec.decode(jsonCodec.encode(value, 'k'), 'k');

describe('jsonCodec: plain JSON data and values that only look plain', () => {
  it('plain data encodes as JSON.stringify gives it', () => {
    const plain = { id: 1, name: 'Ada', tags: ['a', 'b'], nested: { ok: true, none: null }, n: -2.5 };
    expect(jsonCodec.encode(plain, 'k')).toBe(JSON.stringify(plain));
    const noProto = Object.assign(Object.create(null), { a: 1 });
    expect(jsonCodec.encode(noProto, 'k')).toBe('{"a":1}');
  });

  const lookalikes: [string, unknown][] = [
    ['nested -0', { a: { b: -0 } }],
    ['nested NaN and Infinity', [1, Number.NaN, Number.NEGATIVE_INFINITY]],
    ['nested undefined', { a: 1, b: undefined }],
    ['the tag key in user data', { a: { '\u0000': 'Date', v: 0 } }],
    ['a nested Date', { at: new Date(86_400_000) }],
    ['a 24-character string next to a Date', { s: '2020-01-01T00:00:00.000Z', d: new Date(0) }],
    ['a nested Map and Set', { m: new Map([[1, 'a']]), s: new Set([1]) }],
    ['a nested Buffer', { b: Buffer.from([1, 2]) }],
    ['deeper than the plain walk (40 levels)', Array.from({ length: 40 }).reduce((inner) => ({ inner }), { end: 1 })],
  ];
  for (const [name, value] of lookalikes) {
    it(`${name}: round-trips exactly`, () => {
      assert.deepStrictEqual(roundTrip(value), value);
    });
  }

  it('an array hole comes back as undefined (the replacer sees it as undefined)', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case.
    assert.deepStrictEqual(roundTrip([1, , 3]), [1, undefined, 3]);
  });

  it('toJSON and class instances encode as JSON does', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    expect(roundTrip({ p: new Point(1, 2) })).toEqual({ p: { x: 1, y: 2 } });
    expect(roundTrip({ t: { toJSON: () => 'text' } })).toEqual({ t: 'text' });
  });

  it('a throwing getter, a function or a cycle is a SerializationError naming the key', () => {
    const throwing = {
      get bad(): never {
        throw new Error('getter');
      },
    };
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const value of [throwing, { f: () => 1 }, cyclic]) {
      expect(() => jsonCodec.encode(value, 'the-key')).toThrow(SerializationError);
      expect(() => jsonCodec.encode(value, 'the-key')).toThrow(/the-key/);
    }
  });

  // Trees of `leaf` values: arrays and objects (no null prototype: those come back as plain objects, as from JSON.parse).
  const treeOf = (leaf: FastCheck.Arbitrary<unknown>) =>
    fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('tree'), { maxLength: 5 }),
      object: fc.dictionary(fc.string(), tie('tree'), { maxKeys: 5, noNullPrototype: true }),
    })).tree;
  const JSON_LEAF = [fc.string(), fc.boolean(), fc.constant(null), fc.integer(), fc.double()] as const; // double: -0, NaN, ±Infinity too

  for (const [name, leaf] of [
    ['JSON values and every double', fc.oneof(...JSON_LEAF)],
    [
      'with undefined and Dates mixed in',
      fc.oneof(...JSON_LEAF, fc.constant(undefined), fc.date({ noInvalidDate: true })),
    ],
  ] as const) {
    it(`random data, ${name}, round-trips exactly (fast-check)`, () => {
      const tree = treeOf(leaf);
      fc.assert(
        fc.property(fc.oneof(fc.array(tree), fc.dictionary(fc.string(), tree, { noNullPrototype: true })), (value) => {
          assert.deepStrictEqual(roundTrip(value), value);
        }),
        { numRuns: 500 },
      );
    });
  }
});
