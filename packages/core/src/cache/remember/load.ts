import type { PreparedTags } from '../../tags/tag-state';
import { type GracedEntry, gracedEntry, storeTtl } from '../../values/entry';
import type { Engine } from '../engine';
import { storeIfUnchanged } from '../operations/compare-and-set';
import type { View } from '../view';
import { type EntryWrite, tagVersions, write } from '../write-path';
import { runLoader } from './loader-run';
import type { Miss } from './miss';

/** Runs the loader and stores its result through the never-stale write; serves the stale value when the loader fails. */
export async function loadAndStore<T>(engine: Engine, view: View, miss: Miss<T>): Promise<T> {
  const { policy } = miss;
  const tagged = policy.tags === undefined || miss.backendDown ? undefined : await tagsBefore(engine, view, miss);
  let value: T;
  try {
    const run = await runLoader(miss.loader, miss.key, miss.stale?.v, policy.hardMs, miss.clock);
    if (run.skipped) return run.value;
    value = run.value;
  } catch (error) {
    if (miss.stale === undefined) throw error;
    engine.report(view, 'remember.loader', miss.key, error, false);
    miss.servedStale = true;
    return miss.stale.v as T;
  }
  if (value === undefined) return value;
  const { ttlMs, graceMs } = policy;
  const entry = graceMs > 0 ? gracedEntry(value, ttlMs as number) : value;
  const kept = storeTtl(ttlMs, graceMs);
  const payload = engine.values.encode(miss.key, entry, kept);
  if (graceMs > 0) engine.keepGraced(miss.full, entry as GracedEntry, graceMs);
  if (miss.backendDown || (policy.tags !== undefined && tagged === undefined)) return value;
  const { binding, key, full } = miss;
  // Never over a newer value: stored only if the key still holds what was read before the loader began.
  await write(engine, view, binding, {
    operation: 'remember',
    entries: [{ key, full, value: entry, payload }],
    storeTtlMs: kept,
    tagged,
    send: (_, [stored]) =>
      storeIfUnchanged(engine, view, binding, key, miss.expected, (stored as EntryWrite).payload, kept, full),
    // The value is good; the cache is not. Serve it anyway.
    failed: (error) => engine.report(view, 'remember', key, error),
  });
  return value;
}

/**
 * The tags' versions, read before the loader runs: a load that overlaps an invalidation of one of
 * them records the version before it, so its value reads as invalidated. A failed read of the tag
 * state is reported and the loader's value is returned unstored.
 */
async function tagsBefore<T>(engine: Engine, view: View, miss: Miss<T>): Promise<PreparedTags | undefined> {
  const { tags, ttlMs, graceMs } = miss.policy;
  try {
    return await tagVersions(miss.binding, tags as readonly string[], storeTtl(ttlMs, graceMs), [miss.full]);
  } catch (error) {
    engine.report(view, 'remember', miss.key, error);
    return undefined;
  }
}
