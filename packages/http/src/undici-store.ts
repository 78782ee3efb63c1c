import { hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Cache, ConfigError } from '@larder/core';

/** undici's `CacheKey`: what a request is cached under. */
export interface UndiciCacheKey {
  origin: string;
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
}

/** undici's `CacheValue`: a response's metadata (its body comes through the write stream). */
export interface UndiciCacheValue {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string | string[]>;
  vary?: Record<string, string | string[] | null>;
  etag?: string;
  cacheControlDirectives?: Record<string, unknown>;
  cachedAt: number;
  staleAt: number;
  deleteAt: number;
}

/** undici's `GetResult`: the metadata and the body. */
export interface UndiciGetResult extends UndiciCacheValue {
  body: Buffer;
  cacheControlDirectives: Record<string, unknown>;
}

/** Options of `undiciCacheStore`. */
export interface UndiciCacheStoreOptions {
  /** Namespace of the entries inside the cache. @default 'undici' */
  prefix?: string;
  /** Largest body kept, in bytes; larger responses are not stored. @default 5 MiB */
  maxEntrySize?: number;
}

/** One stored variant: the metadata, the method, and the body as base64. */
interface Variant {
  m: string;
  value: UndiciCacheValue;
  b: string;
}

/**
 * undici's `CacheStore` (for `interceptors.cache({ store })`) over a larder `Cache`: outbound
 * responses cached by undici's own RFC 9111 rules, kept in a store every process shares. The
 * variants of a URI (method, `Vary` values) live in one entry, read in one round trip and kept
 * until the last of them may be deleted (undici's `deleteAt`).
 */
export class UndiciCacheStore {
  readonly #cache: Cache;
  readonly #maxEntrySize: number;

  constructor(cache: Cache, options: UndiciCacheStoreOptions = {}) {
    if (typeof cache?.namespace !== 'function') {
      throw new ConfigError('undiciCacheStore needs a Cache from @larder/core', 'cache');
    }
    const maxEntrySize = options.maxEntrySize ?? 5 * 1024 * 1024;
    if (!Number.isSafeInteger(maxEntrySize) || maxEntrySize <= 0) {
      throw new ConfigError(
        `undiciCacheStore maxEntrySize must be a positive integer, got ${maxEntrySize}`,
        'maxEntrySize',
      );
    }
    this.#cache = cache.namespace(options.prefix ?? 'undici');
    this.#maxEntrySize = maxEntrySize;
  }

  /** The stored response for `key` (method and `Vary` values matching, not past its `deleteAt`), or `undefined`. */
  async get(key: UndiciCacheKey): Promise<UndiciGetResult | undefined> {
    const found = findVariant(await this.#variants(key), key, Date.now());
    if (!found) return undefined;
    return {
      ...found.value,
      cacheControlDirectives: found.value.cacheControlDirectives ?? {},
      body: Buffer.from(found.b, 'base64'),
    };
  }

  /** A stream that takes the body of a response to store for `key`; the entry is written when it ends. */
  createWriteStream(key: UndiciCacheKey, value: UndiciCacheValue): Writable {
    const chunks: Buffer[] = [];
    let size = 0;
    const max = this.#maxEntrySize;
    const store = this;
    return new Writable({
      write(chunk: Buffer | string, encoding, callback) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
        size += buf.length;
        if (size > max) return callback(new Error(`undiciCacheStore: the body is over maxEntrySize (${max} bytes)`));
        chunks.push(buf);
        callback();
      },
      final(callback) {
        store.#write(key, value, Buffer.concat(chunks, size)).then(() => callback(), callback);
      },
    });
  }

  /**
   * Removes every stored response of the key's URI (all methods and variants). undici does not
   * wait for it nor handle its failure: a failed delete is dropped here (the cache's `error`
   * event reports it), and the entries expire at their `deleteAt`.
   */
  async delete(key: UndiciCacheKey): Promise<void> {
    await this.#cache.delete(uriKey(key)).catch(() => undefined);
  }

  async #variants(key: UndiciCacheKey): Promise<Variant[]> {
    const stored = await this.#cache.get(uriKey(key));
    return Array.isArray(stored) ? (stored as Variant[]) : [];
  }

  async #write(key: UndiciCacheKey, value: UndiciCacheValue, body: Buffer): Promise<void> {
    const now = Date.now();
    if (value.deleteAt <= now) return;
    // The other live variants stay; the one this response replaces (same method and Vary values) goes.
    const kept = (await this.#variants(key)).filter(
      (variant) =>
        variant.value.deleteAt > now && !(variant.m === key.method && sameVary(variant.value.vary, value.vary)),
    );
    const variants = [...kept, { m: key.method, value, b: body.toString('base64') }];
    const until = Math.max(...variants.map((variant) => variant.value.deleteAt));
    await this.#cache.set(uriKey(key), variants, Math.max(1, Math.ceil(until - now)));
  }
}

/** An undici `CacheStore` over a larder cache (see `UndiciCacheStore`). */
export function undiciCacheStore(cache: Cache, options?: UndiciCacheStoreOptions): UndiciCacheStore {
  return new UndiciCacheStore(cache, options);
}

function uriKey(key: UndiciCacheKey): string {
  return hash('sha256', `${key.origin} ${key.path}`, 'base64url');
}

function findVariant(variants: Variant[], key: UndiciCacheKey, now: number): Variant | undefined {
  return variants.find(
    (variant) =>
      variant.m === key.method && variant.value.deleteAt > now && varyMatches(variant.value.vary, key.headers),
  );
}

/** Whether the request's headers have the values the stored response's `Vary` recorded (absent is `null`). */
function varyMatches(vary: UndiciCacheValue['vary'], headers: Record<string, string | string[]> | undefined): boolean {
  if (!vary) return true;
  return Object.entries(vary).every(([name, value]) => same(headers?.[name] ?? null, value));
}

function sameVary(a: UndiciCacheValue['vary'], b: UndiciCacheValue['vary']): boolean {
  const left = a ?? {};
  const right = b ?? {};
  const names = new Set([...Object.keys(left), ...Object.keys(right)]);
  return [...names].every((name) => same(left[name] ?? null, right[name] ?? null));
}

function same(a: string | string[] | null, b: string | string[] | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
