import { type Cache, ConfigError, InvalidArgumentError, type Ttl } from '@larder/core';
import { methodKey } from './method-key';
import { cacheOf, markUsesCache } from './wiring';

/** Tags, or a function of the call's arguments giving them. */
export type TagsOf = readonly string[] | ((args: unknown[]) => readonly string[]);

/** Options of `@Cached`. */
export interface CachedOptions {
  /** How long the result is fresh. @default the cache's default TTL */
  ttl?: Ttl;
  /** Tags the stored result carries (`invalidateTags` / `@InvalidateTags` drops it). */
  tags?: TagsOf;
  /** How long past `ttl` a stale result may still be served while one call refreshes it. */
  grace?: Ttl;
  /** Run the method once across instances on a miss (`remember`'s cross-process `lock`). @default the cache's */
  lock?: boolean;
  /** The key, or a function of the arguments giving it. @default `Class.method:` and the arguments' JSON */
  key?: string | ((args: unknown[]) => string);
}

type Method = (...args: unknown[]) => unknown;

/**
 * Caches the method's result through `cache.remember` (single-flight, grace, tags): the method
 * runs only on a miss. The method becomes async. The cache is LarderModule's.
 */
export function Cached(options: CachedOptions = {}): MethodDecorator {
  check(typeof options === 'object' && options !== null, '@Cached takes an options object', 'options');
  const { key, tags } = options;
  check(
    key === undefined || typeof key === 'string' || typeof key === 'function',
    '@Cached key must be a string or a function',
    'key',
  );
  checkTags(tags, '@Cached');
  return wrap(
    (original, where) =>
      async function cached(this: unknown, ...args: unknown[]) {
        const cache = cacheOf(this, where);
        const k = key === undefined ? methodKey(where, args) : typeof key === 'string' ? key : key(args);
        return cache.remember(k, options.ttl, () => original.apply(this, args), {
          ...(options.grace !== undefined && { grace: options.grace }),
          ...(options.lock !== undefined && { lock: options.lock }),
          ...(tags !== undefined && { tags: typeof tags === 'function' ? tags(args) : tags }),
        });
      },
  );
}

/** Tags to invalidate, or a function of the arguments and the method's result giving them. */
export type InvalidatedTags = readonly string[] | ((args: unknown[], result: unknown) => readonly string[]);

/**
 * Invalidates tags once the method resolves (`cache.invalidateTags`: when the call resolves, no
 * instance serves what they tagged). A method that throws invalidates nothing; a failed
 * invalidation rejects the call. The method becomes async.
 */
export function InvalidateTags(
  tags: InvalidatedTags,
  options?: Parameters<Cache['invalidateTags']>[1],
): MethodDecorator {
  checkTags(tags, '@InvalidateTags');
  check(
    tags !== undefined,
    '@InvalidateTags needs tags (an array, or a function of the arguments and the result)',
    'tags',
  );
  return wrap(
    (original, where) =>
      async function invalidating(this: unknown, ...args: unknown[]) {
        const cache = cacheOf(this, where);
        const result = await original.apply(this, args);
        await cache.invalidateTags(typeof tags === 'function' ? tags(args, result) : tags, options);
        return result;
      },
  );
}

/** A method decorator replacing the method with `make(original)`, keeping its name and Nest's metadata. */
function wrap(make: (original: Method, where: string) => Method): MethodDecorator {
  return (target, property, descriptor) => {
    const original = descriptor.value as unknown;
    const where = `${(target as { constructor: { name: string } }).constructor.name}.${String(property)}`;
    if (typeof original !== 'function') throw new ConfigError(`${where} is not a method`, 'method');
    const wrapped = make(original as Method, where);
    // Nest reads the handler's name (@nestjs/throttler's keys) and the metadata @Get and the like set on it.
    Object.defineProperty(wrapped, 'name', { value: original.name });
    for (const metaKey of Reflect.getOwnMetadataKeys?.(original) ?? []) {
      Reflect.defineMetadata(metaKey, Reflect.getOwnMetadata(metaKey, original), wrapped);
    }
    markUsesCache(target);
    (descriptor as PropertyDescriptor).value = wrapped;
    return descriptor;
  };
}

function checkTags(tags: unknown, who: string): void {
  if (tags === undefined || typeof tags === 'function') return;
  check(
    Array.isArray(tags) && tags.every((tag) => typeof tag === 'string'),
    `${who} tags must be an array of strings or a function returning one`,
    'tags',
  );
}

function check(ok: boolean, message: string, argument: string): asserts ok {
  if (!ok) throw new InvalidArgumentError(message, argument);
}
