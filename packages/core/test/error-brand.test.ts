import { inspect } from 'node:util';
import {
  BackendError,
  Cache,
  ConfigError,
  DriverNotFoundError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidTtlError,
  isLarderError,
  type LarderError,
  LockTimeoutError,
  SerializationError,
  TimeoutError,
  UnsupportedOperationError,
  ValueTooLargeError,
} from '@larder/core';
import { createMapStore } from '@larder/core/testing';
import { describe, expect, it, vi } from 'vitest';

// Larder's errors are recognised by a registered brand and their code, so an error thrown by another
// copy of core (a second install, a bundle) is still one: `instanceof` against this copy fails there.

/** A second, separate copy of core's error classes (a fresh module instance). */
async function otherCopy(): Promise<typeof import('../src/contract/errors')> {
  vi.resetModules();
  return import('../src/contract/errors');
}

describe('the larder error brand', () => {
  const errors: [LarderError, string][] = [
    [new InvalidKeyError('bad key', ''), 'E_INVALID_KEY'],
    [new InvalidTtlError('soon'), 'E_INVALID_TTL'],
    [new SerializationError('no', 'k'), 'E_SERIALIZATION'],
    [new ValueTooLargeError('k', 10, 5, 'memory'), 'E_VALUE_TOO_LARGE'],
    [new InvalidArgumentError('no', 'step'), 'E_INVALID_ARGUMENT'],
    [new UnsupportedOperationError('keys', 'memcached'), 'E_UNSUPPORTED_OPERATION'],
    [new DriverNotFoundError('nope', ['memory']), 'E_DRIVER_NOT_FOUND'],
    [new ConfigError('bad', 'CACHE_TTL'), 'E_CONFIG'],
    [new BackendError('down', 'redis'), 'E_BACKEND'],
    [new TimeoutError('get', 'redis', 100), 'E_TIMEOUT'],
    [new LockTimeoutError('k'), 'E_LOCK_TIMEOUT'],
  ];

  it.each(errors)('%s carries Symbol.for("larder.error") and its code', (error, code) => {
    expect(isLarderError(error)).toBe(true);
    expect(isLarderError(error, code)).toBe(true);
    expect(isLarderError(error, [code, 'E_OTHER'])).toBe(true);
    expect(isLarderError(error, 'E_OTHER')).toBe(false);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('larder.error')]).toBe(true);
    expect(inspect(error)).not.toContain('larder.error');
  });

  it('is not claimed by look-alikes', () => {
    expect(isLarderError(new Error('plain'))).toBe(false);
    expect(isLarderError({ code: 'E_SERIALIZATION', name: 'SerializationError' })).toBe(false);
    expect(isLarderError({ [Symbol.for('larder.error')]: true })).toBe(false); // no code
    expect(isLarderError(null)).toBe(false);
    expect(isLarderError('E_BACKEND')).toBe(false);
  });

  it('recognises an error from another copy of core, where instanceof fails', async () => {
    const other = await otherCopy();
    const foreign = new other.SerializationError('from elsewhere', 'k');
    expect(foreign instanceof SerializationError).toBe(false);
    expect(isLarderError(foreign, 'E_SERIALIZATION')).toBe(true);
    // And the other way round: the other copy recognises this copy's errors.
    expect(other.isLarderError(new ValueTooLargeError('k', 10, 5, 'memory'), 'E_VALUE_TOO_LARGE')).toBe(true);
  });

  it("a store's input error from another copy of core stays itself: not wrapped as BackendError, not a miss under onError 'miss'", async () => {
    const other = await otherCopy();
    const store = createMapStore('foreign', false);
    store.set = () => Promise.reject(new other.ValueTooLargeError('k', 10, 5, 'foreign'));
    const cache = new Cache({ store, onError: 'miss' });
    const failure = await cache.set('k', 'value').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isLarderError(failure, 'E_VALUE_TOO_LARGE')).toBe(true);
    expect(failure).toBeInstanceOf(other.ValueTooLargeError);
  });
});
