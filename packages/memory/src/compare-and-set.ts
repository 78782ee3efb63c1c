import type { Payload, TtlMs } from '@larder/core/driver';

/** The synchronous read and write `compareAndSet` runs between (no await: atomic within the process). */
export interface SyncReadWrite {
  getSync(key: string): Payload | undefined;
  setSync(key: string, payload: Payload, ttlMs: TtlMs): void;
}

/**
 * Writes `payload` only if the stored value equals `expected` (`undefined` = absent or expired);
 * true if written. Read and write happen in one synchronous step, so no other call interleaves.
 * In the raw modes only strings and bytes can compare equal (objects are copies or references).
 */
export function compareAndSetSync(
  store: SyncReadWrite,
  key: string,
  expected: Payload | undefined,
  payload: Payload,
  ttlMs: TtlMs,
): boolean {
  const current = store.getSync(key);
  if (expected === undefined ? current !== undefined : current === undefined || !samePayload(current, expected)) {
    return false;
  }
  store.setSync(key, payload, ttlMs);
  return true;
}

/** Byte equality of two payloads (a string counts as its UTF-8 bytes). */
export function samePayload(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false;
  const bytesA = typeof a === 'string' ? Buffer.from(a) : a instanceof Uint8Array ? a : undefined;
  const bytesB = typeof b === 'string' ? Buffer.from(b) : b instanceof Uint8Array ? b : undefined;
  return bytesA !== undefined && bytesB !== undefined && Buffer.compare(bytesA, bytesB) === 0;
}
