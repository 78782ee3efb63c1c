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
 * in a second Keyv, storing an envelope inside an envelope), and answers Keyv 5's
 * `get(key, { raw: true })` (see `answerRawGets`).
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
  if (v6) answerRawGets(keyv);
  if (!('opts' in keyv)) {
    Object.defineProperty(keyv, 'opts', {
      value: { store, namespace, ttl, serialization: false },
      enumerable: false,
    });
  }
  return keyv as Keyv;
}

/** The part of a Keyv 6 instance `answerRawGets` uses. */
interface Keyv6Gets {
  get(key: string | string[]): Promise<unknown>;
  getRaw(key: string): Promise<unknown>;
  getManyRaw(keys: string[]): Promise<unknown[]>;
}

/**
 * cache-manager 7 reads `get(key, { raw: true })` (Keyv 5's raw option) in `wrap` and `ttl`; Keyv 6
 * ignores the option and answers the bare value, so `wrap` runs its loader on every call and `ttl`
 * is `undefined`. This instance answers it with `getRaw` / `getManyRaw`, as Keyv 5 does.
 */
function answerRawGets(keyv: Keyv6Gets): void {
  const get = keyv.get.bind(keyv);
  keyv.get = (key: string | string[], options?: { raw?: boolean }) => {
    if (options?.raw !== true) return get(key);
    return Array.isArray(key) ? keyv.getManyRaw(key) : keyv.getRaw(key);
  };
}
