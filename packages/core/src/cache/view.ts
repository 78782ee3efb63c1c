import type { PreparedTags } from '../tags/prepared-tags';
import type { FullKeyMemo } from '../values/key-policy';

/**
 * What one `Cache` object adds to the engine it shares with its namespaces and `withOptions`
 * views: its key prefix and namespace path, and its error policy. Plain data; the engine reads it.
 */
export class View {
  constructor(
    /** Full prefix: store prefix + namespace path. */
    readonly prefix: string,
    /** Namespace path relative to the store prefix (event keys, `keys()`). */
    readonly path: string,
    /** Whether failed backend calls reject (`throw`) or read as misses (`miss`). */
    readonly onError: 'throw' | 'miss',
    /** Tags every write through this view carries (`Cache.tags`), normalized; `undefined`: none. */
    readonly tags: readonly string[] | undefined = undefined,
    /** Versions of some of `tags` read earlier (a scope's `pin`): writes record them instead of reading them. */
    readonly pinned: PreparedTags | undefined = undefined,
    /**
     * Memoized full keys of this view, made on first use (in-process stores and L1s only; see
     * `Engine.full`): one memo for every view of the same prefix (a `tags(...)` view made per
     * call finds the keys its cache met).
     */
    readonly fullKeys: { memo: FullKeyMemo | undefined } = { memo: undefined },
  ) {}

  /** The view of the namespace `segment` (already ending with the separator) under this one. */
  namespace(segment: string): View {
    return new View(`${this.prefix}${segment}`, `${this.path}${segment}`, this.onError, this.tags, this.pinned);
  }

  /** This view with another error policy (same keys). */
  withOnError(onError: 'throw' | 'miss'): View {
    return onError === this.onError
      ? this
      : new View(this.prefix, this.path, onError, this.tags, this.pinned, this.fullKeys);
  }

  /** This view whose writes carry `tags` (normalized, and with this view's own; the pinned versions of those stand). */
  withTags(tags: readonly string[] | undefined): View {
    return new View(this.prefix, this.path, this.onError, tags, this.pinned, this.fullKeys);
  }

  /** This view whose writes record `pinned` (versions of its tags read now) instead of reading them. */
  withPinned(pinned: PreparedTags): View {
    return new View(this.prefix, this.path, this.onError, this.tags, pinned, this.fullKeys);
  }
}
