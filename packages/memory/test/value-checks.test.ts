import assert from 'node:assert/strict';
import { Cache, SerializationError, ValueTooLargeError } from '@larder/core';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/index';

// In clone mode the store's copy checks values (capabilities.checksRawValues) and the facade
// skips its own walk: every refusal must still be typed, carry the path, and change nothing.
const circular = () => {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
};
const bad: [string, () => unknown, RegExp][] = [
  ['undefined', () => undefined, /undefined/],
  ['a function', () => () => 1, /function/],
  ['a symbol', () => Symbol('s'), /symbol/],
  ['a nested function', () => ({ user: { save: () => 1 } }), /function at 'user.save'/],
  ['a symbol in an array', () => ({ list: [1, Symbol('s')] }), /symbol at 'list\[1\]'/],
  ['a value in a Map', () => new Map([['k', () => 1]]), /function/],
  ['a cycle', circular, /circular/],
  [
    'a cycle through an array',
    () => {
      const list: unknown[] = [];
      list.push({ list });
      return list;
    },
    /circular/,
  ],
];

describe('memory store value checks (clone mode)', () => {
  it('declares that it checks raw values only when it copies them', () => {
    expect(createMemoryStore().capabilities.checksRawValues).toBe(true);
    expect(createMemoryStore({ clone: false }).capabilities.checksRawValues).toBe(false);
    expect(createMemoryStore({ useCodec: true }).capabilities.checksRawValues).toBe(false);
  });

  for (const [name, make, message] of bad) {
    it(`refuses ${name} on set, add and setMany, keeping the old value`, async () => {
      const cache = new Cache({ store: createMemoryStore(), prefix: 't' });
      await cache.set('k', 'old');
      await expect(cache.set('k', make())).rejects.toThrow(message);
      await expect(cache.set('k', make())).rejects.toBeInstanceOf(SerializationError);
      // add checks the value even though the key exists (and would not be written).
      await expect(cache.add('k', make())).rejects.toBeInstanceOf(SerializationError);
      await expect(cache.setMany({ k: 'new', other: make() })).rejects.toBeInstanceOf(SerializationError);
      expect(await cache.get('k')).toBe('old');
      expect(await cache.has('other')).toBe(false);
    });
  }

  it('keeps nested undefined, NaN, ±Infinity and -0, and top-level NaN, as the JSON codec does', async () => {
    const cache = new Cache({ store: createMemoryStore() });
    const value = { a: undefined, b: Number.NaN, c: -0, list: [undefined, Number.POSITIVE_INFINITY, 1] };
    await cache.set('k', value);
    assert.deepEqual(await cache.get('k'), value);
    await cache.set('n', Number.NaN);
    expect(await cache.get('n')).toBeNaN();
  });

  it('keeps a Uint8Array a Uint8Array and a Buffer a Buffer, top level and nested', async () => {
    const cache = new Cache({ store: createMemoryStore() });
    const value = { plain: Uint8Array.from([1, 2]), buffer: Buffer.from([3]), list: [Uint8Array.from([4])] };
    await cache.set('k', value);
    assert.deepEqual(await cache.get('k'), value);
    await cache.set('u', Uint8Array.from([5]));
    assert.deepEqual(await cache.get('u'), Uint8Array.from([5]));
  });

  // msgpack decodes a Buffer as a view into the payload: the store must hand each reader its own.
  it("a reader's change to a Buffer it read does not reach the next reader (useCodec, msgpack)", async () => {
    const cache = new Cache({ store: createMemoryStore({ useCodec: true }), codec: 'msgpack' });
    await cache.set('k', { buffer: Buffer.from('abc') });
    const first = (await cache.get('k')) as { buffer: Buffer };
    first.buffer[0] = 0x58;
    assert.equal(((await cache.get('k')) as { buffer: Buffer }).buffer.toString(), 'abc');
  });

  for (const mode of [{}, { clone: false }, { useCodec: true }]) {
    it(`refuses a throwing getter and 100,000-deep nesting with SerializationError (${JSON.stringify(mode)})`, async () => {
      const cache = new Cache({ store: createMemoryStore(mode) });
      await cache.set('k', 'old');
      const getter = {
        get boom(): never {
          throw new Error('getter failed');
        },
      };
      let deep: unknown = [];
      for (let i = 0; i < 100_000; i++) deep = [deep];
      for (const value of [getter, { nested: getter }, deep]) {
        await expect(cache.set('k', value)).rejects.toBeInstanceOf(SerializationError);
        await expect(cache.setMany({ k: 'new', other: value })).rejects.toBeInstanceOf(SerializationError);
      }
      expect(await cache.get('k')).toBe('old');
    });
  }

  it('refuses a value over maxValueBytes before storing it', async () => {
    const cache = new Cache({ store: createMemoryStore({ maxValueBytes: 100 }) });
    await cache.set('k', { ok: true });
    await expect(cache.set('k', { text: 'x'.repeat(200) })).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(await cache.get('k')).toEqual({ ok: true });
  });

  it('refuses a value nested too deeply to copy, with a typed error', async () => {
    const cache = new Cache({ store: createMemoryStore() });
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    await expect(cache.set('k', deep)).rejects.toBeInstanceOf(SerializationError);
    expect(await cache.has('k')).toBe(false);
  });
});
