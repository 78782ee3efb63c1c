import type { Payload } from '../../contract/store';
import { type GracedEntry, isFresh, isGraced, isSoftStale } from '../../values/entry';
import type { Engine } from '../engine';
import type { View } from '../view';
import { decodeOrMiss, type Miss } from './miss';

// The reads of a key inside its flight: what the loader's value may replace, and whether the
// store is down.

/** A read inside the flight: a fresh value, a stale graced entry, or nothing. */
export interface Read {
  fresh: boolean;
  value: unknown;
  stale?: GracedEntry;
  /** The payload read (`undefined`: absent). */
  payload?: Payload;
}

export const MISS: Read = { fresh: false, value: undefined };

/** Reads the key inside the flight, through the L1 read path: a fresh value, a stale graced entry, or nothing; a failed store call rejects. */
export async function readEntry<T>(engine: Engine, view: View, miss: Miss<T>): Promise<Read> {
  const fetched = await miss.binding.reads.read(miss.full, miss.key, (payload) =>
    decodeOrMiss(engine, view, payload, miss.key),
  );
  if (fetched.failed) throw fetched.error;
  const { entry: value, payload } = fetched;
  // As stored: what the loader's value may replace.
  if (payload === undefined) return MISS;
  if (value === undefined) return { fresh: false, value: undefined, payload };
  if (!isGraced(value)) return { fresh: true, value };
  if (isFresh(value)) return { fresh: true, value: value.v };
  if (isSoftStale(value) && miss.policy.graceMs === 0) return { fresh: false, value: undefined, payload };
  return { fresh: false, value: undefined, stale: value, payload };
}

/** `readEntry` for the flight: a failed read is reported and marks the backend down (the loader runs, whatever the error policy, and nothing is written). */
export async function readInFlight<T>(engine: Engine, view: View, miss: Miss<T>): Promise<Read> {
  try {
    return await readEntry(engine, view, miss);
  } catch (error) {
    backendDown(engine, view, miss, error);
    return MISS;
  }
}

/** Reports a failed store call of the flight and marks the backend down. */
export function backendDown<T>(engine: Engine, view: View, miss: Miss<T>, error: unknown): void {
  engine.report(view, 'remember', miss.key, error);
  miss.backendDown = true;
}
