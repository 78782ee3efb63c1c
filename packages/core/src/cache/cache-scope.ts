import type { Cache } from './cache';
import type { ScopeMethods } from './operations/scope';

/** What `Cache.scope(name)` returns: a `Cache` view whose every write carries the scope, and its `drop()` (core README "Scopes"). */
export type CacheScope = Cache & ScopeMethods<Cache>;
