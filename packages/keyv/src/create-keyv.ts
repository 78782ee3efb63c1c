import type { Cache } from '@larder/core';
import { Keyv } from 'keyv';
import { KeyvLarder } from './keyv-larder';
import type { CreateKeyvOptions, KeyvClass } from './options';

const ignore = (): void => {};

/** True for Keyv 6 and later: it resolves its store through `resolveStore` (Keyv 5 has no such method). */
export function isKeyv6(keyv: KeyvClass): boolean {
  return typeof (keyv.prototype as { resolveStore?: unknown }).resolveStore === 'function';
}

/**
 * A ready Keyv over `cache`, for cache-manager 7 (`createCache({ stores: [createKeyv(c)] })`) and
 * NestJS's `CacheModule`. Keys are prefixed once (`<cache prefix><namespace>:<key>`), values go
 * through the cache's codec only (Keyv's serialization is off), and an `error` listener is
 * attached (see `onError`). On Keyv 6 the instance also gets the `opts` that
 * `@nestjs/cache-manager` looks for to recognise a Keyv (Keyv 6 has none, and Nest would wrap it
 * in a second Keyv, storing an envelope inside an envelope).
 */
export function createKeyv(cache: Cache, options: CreateKeyvOptions = {}): Keyv {
  const { namespace = 'keyv', ttl, keyv: KeyvOf = Keyv, onError = ignore, ...adapterOptions } = options;
  const v6 = isKeyv6(KeyvOf);
  const store = new KeyvLarder(cache, { ...adapterOptions, contract: v6 ? 6 : 5, namespace });
  const keyv = v6
    ? new KeyvOf({ store, namespace, ttl, serialization: false })
    : // useKeyPrefix false: the adapter applies the namespace; serialize/deserialize undefined: the codec encodes.
      new KeyvOf({ store, namespace, ttl, useKeyPrefix: false, serialize: undefined, deserialize: undefined });
  keyv.on('error', onError);
  if (!('opts' in keyv)) {
    Object.defineProperty(keyv, 'opts', {
      value: { store, namespace, ttl, serialization: false },
      enumerable: false,
    });
  }
  return keyv as Keyv;
}
