import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine';

// A traced `remember` reports how long it waited for a loader (`OperationTraceContext.loaderMs`),
// so a dashboard can show the cache's own latency without the loader's: the caller's own loader
// run, or the wait on the flight of the same key it joined (another caller's loader).

/** Where a traced `remember` adds up its wait for loaders, in ms. */
export interface LoaderClock {
  loaderMs?: number;
}

/** Runs `loader`, adding its duration (settled or failed) to `clock`. */
export async function timedLoad<T>(loader: () => T | Promise<T>, clock: LoaderClock): Promise<T> {
  const started = performance.now();
  try {
    return await loader();
  } finally {
    clock.loaderMs = (clock.loaderMs ?? 0) + (performance.now() - started);
  }
}

/** `engine.flight(full, fn)`; with a clock, a flight this call only joins counts as a wait for a loader. */
export function timedFlight<T>(
  engine: Engine,
  full: string,
  clock: LoaderClock | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (clock === undefined || !engine.inFlight(full)) return engine.flight(full, fn);
  const started = performance.now();
  const done = () => {
    clock.loaderMs = (clock.loaderMs ?? 0) + (performance.now() - started);
  };
  const flight = engine.flight(full, fn);
  flight.then(done, done);
  return flight;
}
