import { InvalidArgumentError, LoaderTimeoutError } from '../../contract/errors';
import { normalizeTags, unionTags } from '../../tags/tag-policy';
import { parseTtl, type Ttl } from '../../values/ttl';
import type { Loader, LoaderContext } from '../options';
import { type LoaderClock, timedLoad } from './loader-timing';

/** How one run of a `remember` loader went: its value, and what it asked of the write. */
export interface LoaderRun<T> {
  value: T;
  /** `skip()`: return the value without caching it. */
  skipped: boolean;
  /** `notModified()`: keep the stale value, stored again for a new TTL. */
  notModified: boolean;
  /** `setTtl`, `setGrace`, `setTags`: what the write uses instead of the call's. */
  ttlMs?: number;
  graceMs?: number;
  tags?: readonly string[];
}

/** What one run is given: the key, the stale value it refreshes (and since when it is stale), its hard timeout, a traced call's clock. */
export interface RunSpec {
  key: string;
  stale: { value: unknown; expiredAt: number } | undefined;
  hardMs: number | undefined;
  clock: LoaderClock | undefined;
}

/**
 * Runs `loader` once with its context (signal, stale value, `skip`, `setTtl`...). A bad argument to
 * a context method throws there and also rejects the run, even if the loader caught it: nothing is
 * stored. With `hardMs`, the run ends at that bound whatever the loader does: the signal aborts and
 * the run rejects with `LoaderTimeoutError`, so the flight and the lock held for it are released by
 * their callers' `finally`; whatever the loader settles with later is dropped.
 */
export function runLoader<T>(loader: Loader<T>, spec: RunSpec): Promise<LoaderRun<T>> {
  const controller = new AbortController();
  const run: Omit<LoaderRun<T>, 'value'> = { skipped: false, notModified: false };
  let invalid: unknown;
  const checked = <A>(parse: () => A): A => {
    try {
      return parse();
    } catch (error) {
      invalid ??= error;
      throw error;
    }
  };
  const context: LoaderContext = {
    signal: controller.signal,
    stale: spec.stale?.value,
    staleForMs: spec.stale === undefined ? undefined : Math.max(0, Date.now() - spec.stale.expiredAt),
    skip: () => {
      run.skipped = true;
    },
    setTtl: (ttl: Ttl) => {
      run.ttlMs = checked(() => parseTtl(ttl));
    },
    setGrace: (grace: Ttl) => {
      run.graceMs = checked(() => parseTtl(grace));
    },
    setTags: (tags: readonly string[]) => {
      run.tags = checked(() => unionTags(run.tags, normalizeTags(tags)));
    },
    notModified: () => {
      checked(() => {
        if (spec.stale === undefined) {
          throw new InvalidArgumentError(`notModified() of '${spec.key}' needs a stale value to keep`, 'notModified');
        }
      });
      run.notModified = true;
    },
  };
  const call = () => loader(context);
  let started: Promise<T>;
  try {
    // Called now (as before the context existed): a loader that throws synchronously rejects the run.
    started = spec.clock === undefined ? Promise.resolve(call()) : timedLoad(call, spec.clock);
  } catch (error) {
    started = Promise.reject(error);
  }
  const loaded = started.then((value) => {
    if (invalid !== undefined) throw invalid;
    return { ...run, value };
  });
  const hardMs = spec.hardMs;
  if (hardMs === undefined) return loaded;
  return new Promise<LoaderRun<T>>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new LoaderTimeoutError(spec.key, hardMs);
      controller.abort(error);
      reject(error);
    }, hardMs);
    loaded.then(
      (done) => {
        clearTimeout(timer);
        resolve(done);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
