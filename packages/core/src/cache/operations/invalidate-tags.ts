import { normalizeTags } from '../../tags/tag-policy';
import { traceOperation } from '../../util/tracing';
import type { Engine } from '../engine';
import type { View } from '../view';

/** Options of `Cache.invalidateTags`. */
export interface InvalidateTagsOptions {
  /** Soft: the entries become stale (served only by `remember` with `grace`, while it refreshes) instead of misses. @default false */
  soft?: boolean;
}

/** `Cache.invalidateTags`: user tags checked (`InvalidTagError`), then `invalidateTagList`. */
export function invalidateTags(
  engine: Engine,
  view: View,
  tags: readonly string[],
  options: InvalidateTagsOptions | undefined,
  traced: boolean,
): Promise<void> {
  let list: readonly string[];
  try {
    list = normalizeTags(tags);
  } catch (error) {
    return Promise.reject(error);
  }
  const run = () => invalidateTagList(engine, view, list, options?.soft === true);
  return traced ? traceOperation(engine, 'invalidateTags', 0, undefined, undefined, run) : run();
}

/**
 * Invalidates the normalized `list` (user tags, or a scope's tag: `Cache.scope`'s `drop`): bumps
 * each tag's counter in the store (hard or soft), drops this process's L1 entries carrying the
 * tags and tells other instances (the bus; tracking sees the counters change), then waits for the
 * L1's fleet barrier when it has one (hard or soft). Rejects on backend errors whatever the error
 * policy: an invalidation that may not have happened is not a miss.
 */
export async function invalidateTagList(
  engine: Engine,
  view: View,
  list: readonly string[],
  soft: boolean,
): Promise<void> {
  const binding = engine.binding ?? (await engine.ready());
  if (list.length === 0) return;
  const keys = binding.tags.keys(list);
  try {
    await binding.tags.bump(list, soft);
  } catch (error) {
    // It may have landed: the copies here and elsewhere go anyway.
    binding.reads.tagsInvalidated(keys, false).catch(() => {});
    throw engine.report(view, 'invalidateTags', undefined, error);
  }
  await binding.reads.tagsInvalidated(keys, true);
}
