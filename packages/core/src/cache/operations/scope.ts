import type { PreparedTags } from '../../tags/prepared-tags';
import { counterOf, scopeTag, unionTags } from '../../tags/tag-policy';
import { operationChannel, traceOperation } from '../../util/tracing';
import type { Ttl } from '../../values/ttl';
import { limit } from '../binding';
import type { Engine } from '../engine';
import type { View } from '../view';
import { tagVersions } from '../write-path';
import { invalidateTagList } from './invalidate-tags';

/**
 * What `Cache.scope(name)` adds to the view it returns, whose every write carries the scope's
 * group (a tag, `SCOPE_TAG_PREFIX` + name, that no user tag can be): `drop()` to invalidate them all.
 */
export interface ScopeMethods<C> {
  /** The scope's name, as given to `scope(name)`. */
  readonly scopeName: string;
  /** Invalidates every entry written through this scope (its namespaces, `tags()` and nested scopes too), hard, on every instance, like `invalidateTags`: no read that starts after it resolves returns one. */
  drop(): Promise<void>;
  /** Resolves whether this cache can store the scope's entries (tagged entries need the JSON codec or a rawValues store); else its writes reject with `UnsupportedOperationError`. */
  taggable(): Promise<boolean>;
  /**
   * Reads the versions of this view's groups (the scope, its tags) now and resolves a view whose
   * writes record them instead of reading them when they are sent: a value computed after `pin()`
   * and written after a `drop()` that followed it reads as dropped (what `remember` does around its
   * loader, for a value made elsewhere: a response cache's handler). `ttl`: the longest its writes
   * keep entries (the groups' counters are made to outlive them). Tags added on it are read at write time.
   */
  pin(ttl?: Ttl): Promise<C>;
  /** Whether the scope has state in the store now: its counter, made by a write (or `pin`) through it and moved by each `drop()`, until it expires. Rejects on a backend error. */
  exists(): Promise<boolean>;
}

/** `Cache.scope(name)` under `parent` (`InvalidTagError` for a bad name): `share` makes a `Cache` of a view. */
export function scoped<C extends object>(
  engine: Engine,
  parent: View,
  name: string,
  share: (view: View) => C,
): C & ScopeMethods<C> {
  const tag = scopeTag(name);
  const view = parent.withTags(unionTags(parent.tags, [tag]));
  // The view of the last pin, reused while the versions read are the same (a response cache pins before each handler run).
  let last: { tags: PreparedTags; cache: C } | undefined;
  const pinned = (tags: PreparedTags): C => {
    if (last !== undefined && samePin(last.tags, tags)) return last.cache;
    last = { tags, cache: share(view.withPinned(tags)) };
    return last.cache;
  };
  const methods: ScopeMethods<C> = {
    scopeName: name,
    drop: () => dropScope(engine, view, tag, operationChannel.hasSubscribers),
    taggable: () => taggable(engine),
    pin: (ttl) => pinTags(engine, view, ttl).then(pinned),
    exists: () => scopeExists(engine, view, tag),
  };
  return Object.assign(share(view), methods);
}

/** The versions of `view`'s tags now, for writes kept at most `ttl` (else the default TTL). */
function pinTags(engine: Engine, view: View, ttl: Ttl | undefined): Promise<PreparedTags> {
  let storeTtlMs: ReturnType<Engine['ttlMs']>;
  try {
    storeTtlMs = engine.ttlMs(ttl);
  } catch (error) {
    return Promise.reject(error);
  }
  const binding = engine.binding;
  if (binding === undefined) return engine.ready().then(() => pinTags(engine, view, ttl));
  // A failure thrown at once or rejected later is reported the same way.
  const failed = (error: unknown): Promise<never> => Promise.reject(engine.report(view, 'pin', undefined, error));
  try {
    return tagVersions(binding, view.tags as readonly string[], storeTtlMs, []).catch(failed);
  } catch (error) {
    return failed(error);
  }
}

/** Whether two pins read the same versions with the same L1 epoch (their views write alike). */
function samePin(a: PreparedTags, b: PreparedTags): boolean {
  if (a.write.epoch !== b.write.epoch) return false;
  const [x, y] = [a.stamp.versions, b.stamp.versions];
  return x.length === y.length && x.every((version, i) => version === y[i]);
}

/** A scope's `exists()`: one read of its counter. */
async function scopeExists(engine: Engine, view: View, tag: string): Promise<boolean> {
  const binding = engine.binding ?? (await engine.ready());
  const [key] = binding.tags.keys([tag]) as [string];
  try {
    return counterOf(await limit(binding, binding.store.get(key), 'exists')) !== undefined;
  } catch (error) {
    throw engine.report(view, 'exists', undefined, error);
  }
}

/** A scope's `drop()`: its tag invalidated hard through `invalidateTags`' path (store counter, L1s, fleet barrier). */
function dropScope(engine: Engine, view: View, tag: string, traced: boolean): Promise<void> {
  const run = () => invalidateTagList(engine, view, [tag], false);
  return traced ? traceOperation(engine, 'drop', 0, undefined, undefined, run) : run();
}

/** Every codec and store can keep tagged entries (a rawValues store as an envelope; a binary value is refused when written): true once the store is bound. */
async function taggable(engine: Engine): Promise<boolean> {
  await (engine.binding ?? engine.ready());
  return true;
}
