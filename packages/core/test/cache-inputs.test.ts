import { Cache, InvalidKeyError, InvalidTtlError, SerializationError, ValueTooLargeError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it } from 'vitest';

const circular = () => {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
};

// Each bad input must give its typed error, before any backend call, whatever onError says,
// and leave what is stored intact.
describe.each(['throw', 'miss'] as const)('bad inputs (onError: %s)', (onError) => {
  const setup = async () => {
    const store = createChaosStore({ capabilities: { maxKeyBytes: 40, maxValueBytes: 1000 } });
    const cache = new Cache({ store, prefix: 'pfx:', onError });
    await cache.set('k', 'kept');
    store.resetCalls();
    return { store, cache };
  };

  const cases: [string, (cache: Cache) => Promise<unknown>, new (...args: never[]) => Error][] = [
    ['empty key', (c) => c.set('', 1), InvalidKeyError],
    ['non-string key', (c) => c.get(42 as never), InvalidKeyError],
    ['key over maxKeyBytes with the prefix', (c) => c.set('x'.repeat(40), 1), InvalidKeyError],
    ['multi-byte key over maxKeyBytes', (c) => c.get('ż'.repeat(19)), InvalidKeyError],
    ['bad key in getMany', (c) => c.getMany(['k', '']), InvalidKeyError],
    ['bad key in setMany', (c) => c.setMany({ k: 'new', '': 1 }), InvalidKeyError],
    ['bad key in deleteMany', (c) => c.deleteMany(['k', '']), InvalidKeyError],
    ['bad key in delete', (c) => c.delete(''), InvalidKeyError],
    ['bad key in remember', (c) => c.remember('', '1m', () => 1), InvalidKeyError],
    ['undefined value', (c) => c.set('k', undefined), SerializationError],
    ['function value', (c) => c.set('k', () => 1), SerializationError],
    ['symbol value', (c) => c.set('k', Symbol('x')), SerializationError],
    ['circular value', (c) => c.set('k', circular()), SerializationError],
    ['circular value in setMany', (c) => c.setMany({ other: 1, k: circular() }), SerializationError],
    ['circular value in add', (c) => c.add('k2', circular()), SerializationError],
    ['value over maxValueBytes', (c) => c.set('k', 'v'.repeat(2000)), ValueTooLargeError],
    ['multi-byte value over maxValueBytes', (c) => c.set('k', '🧀'.repeat(300)), ValueTooLargeError],
    ['negative TTL', (c) => c.set('k', 1, -1), InvalidTtlError],
    ['zero TTL', (c) => c.set('k', 1, 0), InvalidTtlError],
    ['NaN TTL', (c) => c.set('k', 1, Number.NaN), InvalidTtlError],
    ['garbage TTL string', (c) => c.set('k', 1, '10 years' as never), InvalidTtlError],
    ['bad TTL in setMany', (c) => c.setMany({ k: 2 }, -5), InvalidTtlError],
    ['bad TTL in touch', (c) => c.touch('k', -5), InvalidTtlError],
    ['bad TTL in remember', (c) => c.remember('k', -5, () => 1), InvalidTtlError],
    ['bad grace in remember', (c) => c.remember('other', '1m', () => 1, { grace: 'later' as never }), InvalidTtlError],
    ['bad lock TTL', (c) => c.withLock('l', 0, () => 1), InvalidTtlError],
  ];

  it.each(cases)('%s', async (_name, run, type) => {
    const { store, cache } = await setup();
    const error = await run(cache).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(type);
    expect((error as { code: string }).code).toMatch(/^E_/);
    expect(store.totalCalls()).toBe(0);
    expect(await cache.get('k')).toBe('kept');
  });

  it('ValueTooLargeError names size and limit', async () => {
    const { cache } = await setup();
    const error = (await cache.set('k', 'v'.repeat(2000)).catch((e: unknown) => e)) as ValueTooLargeError;
    expect(error.size).toBe(2002);
    expect(error.limit).toBe(1000);
    expect(error.message).toContain('chaos');
  });

  it('SerializationError names the key and the type', async () => {
    const { cache } = await setup();
    await expect(cache.set('the-key', () => 1)).rejects.toThrow(/function.*the-key/);
  });

  it('a loader value that cannot be encoded rejects remember', async () => {
    const { cache } = await setup();
    await expect(cache.remember('r', '1m', () => circular())).rejects.toBeInstanceOf(SerializationError);
    expect(await cache.get('r')).toBeUndefined();
  });
});
