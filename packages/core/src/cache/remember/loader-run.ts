import { LoaderTimeoutError } from '../../contract/errors';
import type { Loader, LoaderContext } from '../options';
import { type LoaderClock, timedLoad } from './loader-timing';

/** How one run of a `remember` loader went: its value, and whether the loader asked not to cache it. */
export interface LoaderRun<T> {
  value: T;
  skipped: boolean;
}

/**
 * Runs `loader` once with its context (signal, stale value, `skip`). With `hardMs`, the run ends
 * at that bound whatever the loader does: the signal aborts and the run rejects with
 * `LoaderTimeoutError`, so the flight and the lock held for it are released by their callers'
 * `finally`; whatever the loader settles with later is dropped. `clock`: a traced call's wait.
 */
export function runLoader<T>(
  loader: Loader<T>,
  key: string,
  stale: unknown,
  hardMs: number | undefined,
  clock: LoaderClock | undefined,
): Promise<LoaderRun<T>> {
  const controller = new AbortController();
  let skipped = false;
  const context: LoaderContext = {
    signal: controller.signal,
    stale,
    skip: () => {
      skipped = true;
    },
  };
  const call = () => loader(context);
  let started: Promise<T>;
  try {
    // Called now (as before the context existed): a loader that throws synchronously rejects the run.
    started = clock === undefined ? Promise.resolve(call()) : timedLoad(call, clock);
  } catch (error) {
    started = Promise.reject(error);
  }
  const loaded = started.then((value) => ({ value, skipped }));
  if (hardMs === undefined) return loaded;
  return new Promise<LoaderRun<T>>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new LoaderTimeoutError(key, hardMs);
      controller.abort(error);
      reject(error);
    }, hardMs);
    loaded.then(
      (run) => {
        clearTimeout(timer);
        resolve(run);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
