import { scopeTag, unionTags } from '../../tags/tag-policy';
import { operationChannel, traceOperation } from '../../util/tracing';
import type { Engine } from '../engine';
import type { View } from '../view';
import { invalidateTagList } from './invalidate-tags';

/**
 * What `Cache.scope(name)` adds to the view it returns, whose every write carries the scope's
 * group (a tag, `SCOPE_TAG_PREFIX` + name, that no user tag can be): `drop()` to invalidate them all.
 */
export interface ScopeMethods {
  /** The scope's name, as given to `scope(name)`. */
  readonly scopeName: string;
  /** Invalidates every entry written through this scope (its namespaces, `tags()` and nested scopes too), hard, on every instance, like `invalidateTags`: no read that starts after it resolves returns one. */
  drop(): Promise<void>;
  /** Resolves whether this cache can store the scope's entries (tagged entries need the JSON codec or a rawValues store); else its writes reject with `UnsupportedOperationError`. */
  taggable(): Promise<boolean>;
}

/** The view of the scope `name` under `view` and its tag; `InvalidTagError` for a bad name. */
export function scopedView(view: View, name: string): { view: View; tag: string } {
  const tag = scopeTag(name);
  return { view: view.withTags(unionTags(view.tags, [tag])), tag };
}

/** The methods `Cache.scope` adds to its view `view` of the scope `name`, whose tag is `tag`. */
export function scopeMethods(engine: Engine, view: View, tag: string, name: string): ScopeMethods {
  return {
    scopeName: name,
    drop: () => dropScope(engine, view, tag, operationChannel.hasSubscribers),
    taggable: () => taggable(engine),
  };
}

/** A scope's `drop()`: its tag invalidated hard through `invalidateTags`' path (store counter, L1s, fleet barrier). */
function dropScope(engine: Engine, view: View, tag: string, traced: boolean): Promise<void> {
  const run = () => invalidateTagList(engine, view, [tag], false);
  return traced ? traceOperation(engine, 'drop', 0, undefined, undefined, run) : run();
}

async function taggable(engine: Engine): Promise<boolean> {
  await (engine.binding ?? engine.ready());
  try {
    engine.values.checkTaggable();
    return true;
  } catch {
    return false;
  }
}
