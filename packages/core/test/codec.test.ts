import { Cache, jsonCodec, SerializationError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';
import { bodyOf, metaOf } from '../src/values/entry-format';

const samples: [string, unknown][] = [
  ['string', 'hello'],
  ['empty string', ''],
  ['unicode', 'zażółć gęślą jaźń — 日本語 — 🧀🥖'],
  ['integer', 42],
  ['negative float', -3.25],
  ['boolean', false],
  ['null', null],
  ['Date', new Date('2024-02-29T12:34:56.789Z')],
  ['Buffer', Buffer.from([0, 1, 2, 254, 255])],
  ['empty Buffer', Buffer.alloc(0)],
  [
    'Map',
    new Map<unknown, unknown>([
      ['a', 1],
      [2, { b: [3] }],
    ]),
  ],
  ['Set', new Set(['x', 1, null])],
  ['BigInt', 12345678901234567890n],
  ['array', [1, 'two', { three: 3 }, [4]]],
  [
    'nested',
    {
      when: new Date(0),
      bytes: Buffer.from('bin\u0000ary'),
      tags: new Set(['a']),
      index: new Map([['k', new Date(1)]]),
      big: -5n,
      deep: { deeper: { deepest: ['🦀', 1.5, true, null] } },
    },
  ],
];

describe('jsonCodec', () => {
  it.each(samples)('round-trips %s', (_name, value) => {
    const payload = jsonCodec.encode(value, 'k');
    expect(jsonCodec.decode(payload, 'k')).toEqual(value);
  });

  it.each(samples)('decodes %s from bytes as well as text', (_name, value) => {
    const payload = jsonCodec.encode(value, 'k');
    const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    expect(jsonCodec.decode(bytes, 'k')).toEqual(value);
  });

  it('encodes integers as plain decimal so backend counters work', () => {
    expect(jsonCodec.encode(42, 'k')).toBe('42');
    expect(jsonCodec.decode('43', 'k')).toBe(43);
  });

  it('stores a top-level Buffer as raw bytes after one marker byte', () => {
    const payload = jsonCodec.encode(Buffer.from([7, 8]), 'k') as Uint8Array;
    expect([...payload]).toEqual([0, 7, 8]);
  });

  it.each([
    ['undefined', undefined],
    ['function', () => 1],
    ['symbol', Symbol('s')],
    ['nested function', { a: { b: () => 1 } }],
  ])('rejects %s with SerializationError', (_name, value) => {
    expect(() => jsonCodec.encode(value, 'the-key')).toThrow(SerializationError);
  });

  it('rejects circular structures, naming the key', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(() => jsonCodec.encode(circular, 'the-key')).toThrow(/the-key/);
  });
});

describe('values through the facade', () => {
  it.each(samples)('%s survives set/get on a payload store', async (_name, value) => {
    const cache = new Cache({ store: createChaosStore(), prefix: 'p:' });
    await cache.set('k', value);
    expect(await cache.get('k')).toEqual(value);
  });

  it('uses a custom codec', async () => {
    const store = createChaosStore();
    const cache = new Cache({
      store,
      codec: {
        encode: (value) => `X${JSON.stringify(value)}`,
        decode: (payload) => JSON.parse(String(payload).slice(1)),
      },
    });
    await cache.set('k', { a: 1 });
    // larder's metadata header, then the codec's payload of the value.
    const stored = (await store.get('k')) as string;
    expect(metaOf(stored)?.writtenAt).toBeGreaterThan(0);
    expect(bodyOf(stored)).toBe('X{"a":1}');
    expect(await cache.get('k')).toEqual({ a: 1 });
  });

  it('a payload that no longer decodes rejects with SerializationError', async () => {
    const store = createChaosStore();
    await store.set('k', '{not json', undefined);
    const cache = new Cache({ store, onError: 'miss' });
    await expect(cache.get('k')).rejects.toBeInstanceOf(SerializationError);
  });
});
