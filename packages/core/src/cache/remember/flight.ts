import type { Engine } from '../engine';
import type { View } from '../view';
import { readInFlight } from './entry-read';
import { loadAndStore } from './load';
import { resolveMissLocked } from './locked-miss';
import type { Miss } from './miss';

// The body of a key's single flight: re-read (a flight that just ended may have stored the
// value), then load, under the cross-process lock when asked.

/** Runs inside the single-flight: re-reads, then loads, under the lock when asked. */
export async function resolveMiss<T>(engine: Engine, view: View, miss: Miss<T>): Promise<T> {
  const read = await readInFlight(engine, view, miss);
  if (read.fresh) return read.value as T;
  if (miss.backendDown) return loadAndStore(engine, view, miss);
  miss.expected = read.payload;
  if (read.stale) miss.stale ??= read.stale;
  const lock = miss.policy.lock;
  return lock ? resolveMissLocked(engine, view, miss, lock) : loadAndStore(engine, view, miss);
}
