import { normalizeTags } from '../../tags/tag-policy';
import type { Engine } from '../engine';
import type { View } from '../view';

/** Options of `Cache.invalidateTags`. */
export interface InvalidateTagsOptions {
  /** Soft: the entries become stale (served only by `remember` with `grace`, while it refreshes) instead of misses. @default false */
  soft?: boolean;
}

/**
 * `Cache.invalidateTags`: bumps each tag's counter in the store (hard or soft), drops this
 * process's L1 entries carrying the tags and tells other instances (the bus; tracking sees the
 * counters change), then waits for the L1's fleet barrier when it has one (hard or soft). Rejects on
 * backend errors whatever the error policy: an invalidation that may not have happened is not a miss.
 */
export async function invalidateTags(
  engine: Engine,
  view: View,
  tags: readonly string[],
  options: InvalidateTagsOptions | undefined,
): Promise<void> {
  const list = normalizeTags(tags);
  const soft = options?.soft === true;
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
