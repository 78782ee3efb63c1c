import { createHash, randomBytes } from 'node:crypto';
import type { Cache, CacheScope } from '@larder/core';

/** Where one Keyv namespace's keys live, and how `clear()` removes exactly them. */
export interface NamespaceScope {
  /** The cache that holds the namespace's keys now (a promise only while it must be looked up). */
  current(): Cache | Promise<Cache>;
  /** Removes every key of the namespace, and nothing else. */
  clear(): Promise<void>;
}

/**
 * Every store, when the cache can tag entries (the JSON codec, the default, or a rawValues store):
 * the namespace's entries carry a larder scope (`cache.scope`), and `clear()` drops it, so no read
 * in any process that starts after `clear()` resolves returns an entry written before it (the L1
 * barrier's guarantee, as for `invalidateTags`). On a store that clears by prefix `clear()` also
 * deletes the namespace's keys first (to free their memory; the drop covers writes racing it).
 */
export class DropScope implements NamespaceScope {
  /** `cache`: the namespace; `scope`: `namespaceScope(cache)`; `deletesKeys`: the store clears by prefix. */
  constructor(
    private readonly cache: Cache,
    private readonly scope: CacheScope,
    private readonly deletesKeys: boolean,
  ) {}

  current(): Cache {
    return this.scope;
  }

  async clear(): Promise<void> {
    try {
      // An empty prefix (no namespace, a cache without one) cannot be cleared: the drop does it all.
      if (this.deletesKeys && this.cache.prefix !== '') await this.cache.clear();
    } finally {
      await this.scope.drop();
    }
  }
}

/** Longest scope name used as it is (larder's limit is 241); a longer one, or one holding control characters, is hashed. */
const MAX_PLAIN_NAME = 200;

/** The larder scope of the namespace `cache` (a scope belongs to the store prefix: the namespace's full prefix names it). */
export function namespaceScope(cache: Cache): CacheScope {
  return cache.scope(scopeName(cache.prefix));
}

function scopeName(prefix: string): string {
  const name = `keyv:${prefix}`;
  let plain = name.length <= MAX_PLAIN_NAME;
  for (let i = 0; plain && i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) plain = false;
  }
  return plain ? name : `keyv#${createHash('sha256').update(prefix).digest('base64url')}`;
}

/** Stores that clear by prefix (memory, Redis, DynamoDB with `allowClear`), under a cache that cannot tag: the namespace is a larder namespace. */
export class PrefixScope implements NamespaceScope {
  constructor(private readonly cache: Cache) {}

  current(): Cache {
    return this.cache;
  }

  clear(): Promise<void> {
    return this.cache.clear();
  }
}

/** Key (inside the namespace) of the generation token; data keys all sit one segment deeper, under `g<token>:`. */
export const GENERATION_KEY = 'generation';
/** How long a generation token lives once created (renewed by every `clear()`): a year, then the namespace starts afresh. */
const GENERATION_TTL = '365d';

/**
 * Stores that cannot clear by prefix (memcached has no key listing; DynamoDB only with a Scan),
 * under a cache that cannot tag (another codec than JSON; else `DropScope`): every key of the namespace carries a generation segment, `<namespace>:g<token>:<key>`, and
 * `clear()` writes a new random token, so the old keys are never read again and expire or are
 * evicted by the backend. The token is random, not a counter: if it is evicted or expires, a new
 * one is drawn and no cleared key comes back. Other processes read the token again after
 * `maxAgeMs`, so they see a `clear()` within that time.
 */
export class GenerationScope implements NamespaceScope {
  #scope: Cache | undefined;
  #readAt = 0;
  #reading: Promise<Cache> | undefined;

  constructor(
    private readonly cache: Cache,
    private readonly maxAgeMs: number,
  ) {}

  current(): Cache | Promise<Cache> {
    const scope = this.#scope;
    // While the cache's L2 breaker has the store down (its `breaker` option), the token cannot be read: keep the last one.
    if (scope !== undefined && (Date.now() - this.#readAt < this.maxAgeMs || this.cache.health().state === 'down')) {
      return scope;
    }
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async clear(): Promise<void> {
    const token = newToken();
    await this.cache.set(GENERATION_KEY, token, GENERATION_TTL);
    this.#use(token);
  }

  async #read(): Promise<Cache> {
    let token: string | undefined;
    try {
      token = await this.cache.get<string>(GENERATION_KEY);
    } catch (error) {
      // Backend down (and no breaker saw it yet): keep the last known generation (the operation
      // itself will fail or miss) and do not ask again before maxAge, so an outage does not
      // double every call's wait.
      if (this.#scope === undefined) throw error;
      this.#readAt = Date.now();
      return this.#scope;
    }
    if (typeof token !== 'string') {
      const fresh = newToken();
      // add: when two processes start a namespace at once, both end up on the token that won.
      token = (await this.cache.add(GENERATION_KEY, fresh, GENERATION_TTL))
        ? fresh
        : ((await this.cache.get<string>(GENERATION_KEY)) ?? fresh);
    }
    return this.#use(token);
  }

  #use(token: string): Cache {
    if (this.#scope === undefined || this.#scope.prefix !== `${this.cache.prefix}g${token}:`) {
      this.#scope = this.cache.namespace(`g${token}`);
    }
    this.#readAt = Date.now();
    return this.#scope;
  }
}

function newToken(): string {
  return randomBytes(6).toString('base64url');
}
