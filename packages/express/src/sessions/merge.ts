import { BackendError } from '@larder/core';
import { decodeEnvelope, encodeEnvelope } from './envelope';

/** The stored version a request read: the envelope as stored (text; bytes from 0.x), and its data JSON. */
export interface ReadBase {
  stored: string | Uint8Array;
  data: string;
}

/** Where a session read leaves its `ReadBase` (a non-enumerable property: never stored, never copied by for-in). */
export const READ_BASE = Symbol('larder.session.readBase');

/** The version `session` was read at, if the store attached one (see `attachBase`). */
export function baseOf(session: object): ReadBase | undefined {
  return (session as { [READ_BASE]?: ReadBase })[READ_BASE];
}

/** Records on the session object the version it was read at (or last written as). */
export function attachBase(session: object, base: ReadBase): void {
  Object.defineProperty(session, READ_BASE, { value: base, configurable: true, writable: true, enumerable: false });
}

/**
 * Applies what this request changed (top-level keys added, changed or removed between `base` and
 * `mine`, all data JSON) onto `current` (the data as stored now). A key changed by both: `mine`
 * wins (last writer). Returns the merged data JSON.
 */
export function mergeData(base: string, mine: string, current: string): string {
  const before = JSON.parse(base) as Record<string, unknown>;
  const after = JSON.parse(mine) as Record<string, unknown>;
  const merged = JSON.parse(current) as Record<string, unknown>;
  for (const key of Object.keys(after)) {
    if (!(key in before) || JSON.stringify(after[key]) !== JSON.stringify(before[key])) merged[key] = after[key];
  }
  for (const key of Object.keys(before)) if (!(key in after)) delete merged[key];
  return JSON.stringify(merged);
}

/** The backend steps a merged save needs (the store's guarded cache calls). */
export interface MergeBackend {
  /** The stored envelope text, or undefined. */
  read(sid: string): Promise<unknown>;
  /** Writes `payload` only if the stored value is still `expected` (`undefined` = absent). */
  compareAndSet(
    sid: string,
    expected: string | Uint8Array | undefined,
    payload: string,
    ttlMs: number,
  ): Promise<boolean>;
}

/**
 * How many times a save re-reads and re-applies its change after losing a race. Every lost race
 * is another request's won write, so N concurrent writers of one session need at most N tries.
 */
const MERGE_ATTEMPTS = 100;

/**
 * Writes this request's change of session `sid` atomically. `base` is the version it read
 * (`undefined` for a brand-new session); `data` its data JSON now; `cookie` and `writtenExpiry`
 * go into the envelope as they are (the cookie is last-writer-wins). Fast path: one
 * compare-and-set expecting `base` (nobody wrote since). On a conflict, re-read and re-apply the
 * top-level diff onto what is stored now. A session that was read but is now gone (destroyed,
 * regenerated, expired) is not brought back: resolves `undefined`. Resolves the version written.
 */
export async function saveMerged(
  backend: MergeBackend,
  sid: string,
  base: ReadBase | undefined,
  data: string,
  cookie: string,
  writtenExpiry: number,
  ttlMs: number,
): Promise<ReadBase | undefined> {
  let expected: string | Uint8Array | undefined = base?.stored;
  let merged = data;
  for (let attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
    // After a few lost races, step aside a little (jittered) so the crowd spreads out.
    if (attempt > 3) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
    const stored = encodeEnvelope({ writtenExpiry, cookie, data: merged });
    if (await backend.compareAndSet(sid, expected, stored, ttlMs)) return { stored, data: merged };
    const current = await backend.read(sid);
    if (current === undefined) {
      // Read before it was destroyed: gone means gone. A brand-new session lost only to an expiry: retry.
      if (base !== undefined) return undefined;
      expected = undefined;
      merged = data;
      continue;
    }
    if (typeof current !== 'string' && !(current instanceof Uint8Array)) throw notText(sid);
    const now = decodeEnvelope(current, sid);
    expected = current;
    // A brand-new session that meets a stored one (two first requests of one id): its keys are all additions.
    merged = mergeData(base?.data ?? '{}', data, now.data);
  }
  throw new BackendError(
    `Session '${sid}' kept changing during ${MERGE_ATTEMPTS} merge attempts; use sessionLock for this route`,
    'session',
    { code: 'E_SESSION_CONFLICT' },
  );
}

function notText(sid: string): BackendError {
  return new BackendError(`Session '${sid}' is not stored as a session envelope; it cannot be merged`, 'session', {
    code: 'E_SESSION_FORMAT',
  });
}
