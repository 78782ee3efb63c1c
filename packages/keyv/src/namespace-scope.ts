import { createHash } from 'node:crypto';
import type { Cache, CacheScope } from '@larder/core';

/** Where one Keyv namespace's keys live, and how `clear()` removes exactly them. */
export interface NamespaceScope {
  /** The cache that holds the namespace's keys now (a promise only while it must be looked up). */
  current(): Cache | Promise<Cache>;
  /** Removes every key of the namespace, and nothing else. */
  clear(): Promise<void>;
}

/**
 * With an L1, or on a store that cannot clear by prefix (memcached, DynamoDB without `allowClear`):
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

/** Without an L1, on a store that clears by prefix (memory, Redis, DynamoDB with `allowClear`): the namespace is a larder namespace, cleared by prefix. */
export class PrefixScope implements NamespaceScope {
  constructor(private readonly cache: Cache) {}

  current(): Cache {
    return this.cache;
  }

  clear(): Promise<void> {
    return this.cache.clear();
  }
}
