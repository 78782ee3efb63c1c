import { BackendError, Cache, InvalidKeyError, SerializationError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';

// In-process stores may offer getSync/setSync; the facade then answers get, set and remember
// hits without awaiting the store, with the same contract.
const setup = (onError: 'throw' | 'miss' = 'throw') => {
  const store = createChaosStore({ capabilities: { inProcess: true }, sync: true });
  const getSpy = vi.spyOn(store, 'get');
  const setSpy = vi.spyOn(store, 'set');
  const cache = new Cache({ store, prefix: 's:', onError });
  return { store, cache, getSpy, setSpy };
};

describe('in-process sync fast path', () => {
  it('get, set and remember hits use getSync/setSync', async () => {
    const { store, cache, getSpy, setSpy } = setup();
    await cache.set('k', { a: 1 });
    expect(await cache.get('k')).toEqual({ a: 1 });
    expect(await cache.remember('k', '1m', () => 'unused')).toEqual({ a: 1 });
    expect(getSpy).not.toHaveBeenCalled();
    expect(setSpy).not.toHaveBeenCalled();
    expect(store.calls.get).toBe(2);
    expect(store.calls.set).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 2, writes: 1 });
  });

  it('input errors reject (never throw synchronously) and reach no store', async () => {
    const { store, cache } = setup('miss');
    const get = cache.get('');
    const set = cache.set('k', () => 1);
    const remember = cache.remember('', '1m', () => 1);
    await expect(get).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(set).rejects.toBeInstanceOf(SerializationError);
    await expect(remember).rejects.toBeInstanceOf(InvalidKeyError);
    expect(store.totalCalls()).toBe(0);
  });

  it('store errors go through the failure policy', async () => {
    const strict = setup('throw');
    strict.store.fail();
    await expect(strict.cache.get('k')).rejects.toBeInstanceOf(BackendError);
    await expect(strict.cache.set('k', 1)).rejects.toBeInstanceOf(BackendError);
    expect(strict.cache.stats().errors).toBe(2);

    const lenient = setup('miss');
    lenient.store.fail();
    const errors = vi.fn();
    lenient.cache.on('error', errors);
    expect(await lenient.cache.get('k')).toBeUndefined();
    await expect(lenient.cache.set('k', 1)).resolves.toBeUndefined();
    expect(errors).toHaveBeenCalledTimes(2);
  });

  it('a remember miss, or a call with options, takes the full path', async () => {
    const { cache } = setup();
    const loader = vi.fn(() => 'built');
    expect(await cache.remember('m', '1m', loader)).toBe('built');
    expect(await cache.remember('m', '1m', loader, { grace: '1m' })).toBe('built');
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('is not used by stores that are not in-process', async () => {
    const store = createChaosStore({ sync: true });
    const getSpy = vi.spyOn(store, 'get');
    const cache = new Cache({ store });
    await cache.get('k');
    expect(getSpy).toHaveBeenCalledTimes(1);
  });
});
