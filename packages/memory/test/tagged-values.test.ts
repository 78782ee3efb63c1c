import { Cache, isLarderError } from '@larder/core';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../src/index';

// A tagged entry is kept as an envelope beside its tag section (core's values/tagged-envelope.ts):
// its value must read back exactly as an untagged one does in each mode.
const sample = () => ({
  at: new Date(1_700_000_000_000),
  ids: new Set([1, 2]),
  names: new Map([['a', { n: 1 }]]),
  big: 12345678901234567890n,
  bytes: Buffer.from('abc'),
  nested: { list: [1, { deep: true }], missing: undefined },
});

describe('tagged values on the memory driver', () => {
  it('clone mode: copied in and out like an untagged value, the same types kept', async () => {
    const cache = new Cache({ store: createMemoryStore(), prefix: 'app' });
    const value = sample();
    await cache.tags(['t']).set('tagged', value);
    await cache.set('plain', value);
    value.nested.list.push(99);
    const read = (await cache.get('tagged')) as ReturnType<typeof sample>;
    expect(read).toEqual(await cache.get('plain'));
    expect(read).not.toBe(value);
    expect(read.nested.list).toEqual([1, { deep: true }]);
    expect(read.at).toBeInstanceOf(Date);
    expect(read.names.get('a')).toEqual({ n: 1 });
    read.nested.list.push(7);
    expect(((await cache.get('tagged')) as typeof read).nested.list).toEqual([1, { deep: true }]);
  });

  it('clone: false: the reference is kept, as for an untagged value', async () => {
    const cache = new Cache({ store: createMemoryStore({ clone: false }), prefix: 'app' });
    const value = sample();
    await cache.tags(['t']).set('tagged', value);
    expect(await cache.get('tagged')).toBe(value);
    expect(await cache.getMany(['tagged', 'none'])).toEqual([value, undefined]);
  });

  for (const clone of [true, false]) {
    it(`clone: ${clone}: invalidation, soft invalidation and getMany see the tags`, async () => {
      const cache = new Cache({ store: createMemoryStore({ clone }), prefix: 'app' });
      await cache.tags(['a']).set('x', { v: 1 });
      await cache.tags(['b']).set('y', { v: 2 });
      expect(await cache.getMany(['x', 'y'])).toEqual([{ v: 1 }, { v: 2 }]);
      await cache.invalidateTags(['a']);
      expect(await cache.get('x')).toBeUndefined();
      expect(await cache.getMany(['x', 'y'])).toEqual([undefined, { v: 2 }]);
      // Soft: a plain read misses, `remember` with grace may still serve the old value while it refreshes.
      await cache.invalidateTags(['b'], { soft: true });
      expect(await cache.get('y')).toBeUndefined();
      expect(await cache.has('y')).toBe(false);
    });
  }

  it('clone mode: a value the copy refuses is a typed error with its path; the old value stays', async () => {
    const cache = new Cache({ store: createMemoryStore(), prefix: 'app' });
    await cache.tags(['t']).set('k', { ok: true });
    const refusals: [unknown, RegExp][] = [
      [{ user: { save: () => 1 } }, /function at 'user\.save' under key 'app:k'/],
      [() => 1, /function under key 'app:k'/],
      [undefined, /undefined/],
    ];
    for (const [value, message] of refusals) {
      await expect(cache.tags(['t']).set('k', value)).rejects.toSatisfy(
        (e) => isLarderError(e, 'E_SERIALIZATION') && message.test((e as Error).message),
      );
      expect(await cache.get('k')).toEqual({ ok: true });
    }
  });

  it('a value over maxValueBytes is ValueTooLargeError; nothing stored', async () => {
    const cache = new Cache({ store: createMemoryStore({ maxValueBytes: 1024 }), prefix: 'app' });
    await expect(cache.tags(['t']).set('big', { s: 'x'.repeat(2048) })).rejects.toSatisfy((e) =>
      isLarderError(e, 'E_VALUE_TOO_LARGE'),
    );
    expect(await cache.get('big')).toBeUndefined();
  });
});
