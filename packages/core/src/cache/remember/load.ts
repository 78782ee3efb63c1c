import type { TtlMs } from '../../contract/store';
import type { PreparedTags } from '../../tags/prepared-tags';
import { unionTags } from '../../tags/tag-policy';
import { GRACE, type GracedEntry, gracedEntry, storeTtl } from '../../values/entry';
import type { Engine } from '../engine';
import { storeIfUnchanged } from '../operations/compare-and-set';
import type { View } from '../view';
import { type EntryWrite, tagVersions, write } from '../write-path';
import { KeyBackoff } from './backoff';
import { extendLife } from './extend';
import { type LoaderRun, runLoader } from './loader-run';
import type { Miss } from './miss';

/** Runs the loader and stores its result through the never-stale write; serves the stale value when the loader fails. */
export async function loadAndStore<T>(engine: Engine, view: View, miss: Miss<T>): Promise<T> {
  const { policy, stale } = miss;
  const backoff = policy.failure === undefined || miss.backendDown ? undefined : keyBackoff(engine, view, miss);
  if (backoff !== undefined) {
    const verdict = await backoff.before();
    if (!verdict.run) {
      if (stale === undefined) throw verdict.error;
      miss.servedStale = true;
      return stale.v as T;
    }
  }
  const tagged = policy.tags === undefined || miss.backendDown ? undefined : await tagsBefore(engine, view, miss);
  let run: LoaderRun<T>;
  try {
    const expiredAt = stale === undefined ? 0 : stale[GRACE] < 0 ? Date.now() : stale[GRACE];
    run = await runLoader(miss.loader, {
      key: miss.key,
      stale: stale === undefined ? undefined : { value: stale.v, expiredAt },
      hardMs: policy.hardMs,
      clock: miss.clock,
    });
  } catch (error) {
    await backoff?.failed(error);
    if (stale === undefined) throw error;
    engine.report(view, 'remember.loader', miss.key, error, false);
    miss.servedStale = true;
    return stale.v as T;
  }
  await backoff?.succeeded();
  if (run.skipped) return run.value;
  const value = run.notModified ? ((stale as GracedEntry).v as T) : run.value;
  if (value === undefined) return value;
  const ttlMs: TtlMs = run.ttlMs ?? policy.ttlMs;
  const graceMs = ttlMs === undefined ? 0 : (run.graceMs ?? policy.graceMs);
  // notModified: the stale value stands with a new life, its bytes kept (extend.ts); stored again
  // (a new entry, the value itself unchanged) when its stored form cannot be extended so.
  const extensible = graceMs > 0 && policy.tags === undefined && run.tags === undefined && !miss.backendDown;
  if (
    run.notModified &&
    extensible &&
    (await extendLife(engine, view, miss, stale as GracedEntry, ttlMs as number, graceMs))
  )
    return value;
  const entry = graceMs > 0 ? gracedEntry(value, ttlMs as number) : value;
  const kept = storeTtl(ttlMs, graceMs);
  const payload = engine.values.encode(miss.key, entry, kept);
  if (graceMs > 0) engine.keepGraced(miss.full, entry as GracedEntry, graceMs);
  if (miss.backendDown) return value;
  const tags = run.tags === undefined ? undefined : await tagsAfter(engine, view, miss, run.tags, kept, tagged);
  if ((policy.tags !== undefined && tagged === undefined) || tags === null) return value;
  const { binding, key, full } = miss;
  // Never over a newer value: stored only if the key still holds what was read before the loader began.
  await write(engine, view, binding, {
    operation: 'remember',
    entries: [{ key, full, value: entry, payload }],
    storeTtlMs: kept,
    tagged: tags ?? tagged,
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

/**
 * The call's tags as `before` read them (before the loader ran) with the versions of the tags the
 * loader named (`setTags`) it lacks, read once the loader returned: those were unknown before it
 * ran, so an invalidation of one of them during the run cannot be seen (core README "remember"),
 * while one of the call's tags (a scope's too) still wins. `null`: the read failed (reported; not stored).
 */
async function tagsAfter<T>(
  engine: Engine,
  view: View,
  miss: Miss<T>,
  named: readonly string[],
  kept: TtlMs,
  before: PreparedTags | undefined,
): Promise<PreparedTags | null> {
  const tags = before === undefined ? (unionTags(miss.policy.tags, named) as readonly string[]) : named;
  const fresh = before === undefined ? tags : tags.filter((tag) => !before.stamp.tags.includes(tag));
  if (before !== undefined && fresh.length === 0) return before;
  try {
    const after = await tagVersions(miss.binding, fresh, kept, [miss.full]);
    return before === undefined ? after : miss.binding.tags.combine(before, after);
  } catch (error) {
    engine.report(view, 'remember', miss.key, error);
    return null;
  }
}

/** The backoff of the miss's key under its policy's `failure`. */
const keyBackoff = <T>(engine: Engine, view: View, miss: Miss<T>) =>
  new KeyBackoff(engine, view, miss.policy.failure as NonNullable<typeof miss.policy.failure>, miss.key, miss.full);
