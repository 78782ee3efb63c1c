import type { Payload, TtlMs } from '../contract/store';

/**
 * Entry metadata: when an entry was written and when the store drops it, carried in a header in
 * front of the JSON codec's text (docs/architecture.md "Two tiers"; core README "Entry metadata"):
 * `\u0001<written, epoch ms base 36>,<expiry, epoch ms base 36, empty for none>\u0001<JSON text>`.
 * JSON text never starts with (nor contains) a raw U+0001, so a payload without the header (written
 * by an earlier version, a counter `increment` made, raw bytes) reads as before. A number written
 * by `set` carries the header too; the first `increment` of it rewrites it as plain decimal text
 * (the backends' counters need that; see `plainCounter` in key-operations.ts), and counters carry no metadata.
 */
export const META_MARK = '\u0001';
const MARK_CODE = 1;

/** What an entry's header says. */
export interface EntryMeta {
  /** When the entry was written (the writer's clock), epoch ms. */
  readonly writtenAt: number;
  /** When the store drops it (the writer's clock), epoch ms; `undefined`: no expiry. */
  readonly expiresAt: number | undefined;
}

/** The payload stored for `payload` written at `now` with the store TTL `ttlMs`: with the header, except bytes. */
export function withMeta(payload: Payload, ttlMs: TtlMs, now: number): Payload {
  if (typeof payload !== 'string') return payload;
  const expiry = ttlMs === undefined ? '' : (now + ttlMs).toString(36);
  return `${META_MARK}${now.toString(36)},${expiry}${META_MARK}${payload}`;
}

/** The header of `payload` (text, or its UTF-8 bytes as some drivers return it), or `undefined` when it has none (or a malformed one). */
export function metaOf(payload: Payload): EntryMeta | undefined {
  const end = headerEnd(payload);
  if (end < 0) return undefined;
  const header =
    typeof payload === 'string'
      ? payload.slice(1, end)
      : Buffer.from(payload.buffer, payload.byteOffset + 1, end - 1).toString('latin1');
  const comma = header.indexOf(',');
  if (comma < 0) return undefined;
  const writtenAt = Number.parseInt(header.slice(0, comma), 36);
  const expiry = header.slice(comma + 1);
  const expiresAt = expiry === '' ? undefined : Number.parseInt(expiry, 36);
  if (!Number.isFinite(writtenAt) || (expiresAt !== undefined && !Number.isFinite(expiresAt))) return undefined;
  return { writtenAt, expiresAt };
}

/** `payload` without its header (as given when it has none). */
export function bodyOf(payload: Payload): Payload {
  const end = headerEnd(payload);
  if (end < 0) return payload;
  return typeof payload === 'string' ? payload.slice(end + 1) : payload.subarray(end + 1);
}

// Headers are short: a closing mark further away is not one.
const MAX_HEADER = 32;

/** Index of the header's closing mark, or -1 when the payload has no header. */
function headerEnd(payload: Payload): number {
  if (typeof payload === 'string') {
    if (payload.charCodeAt(0) !== MARK_CODE) return -1;
    const end = payload.indexOf(META_MARK, 1);
    return end > MAX_HEADER ? -1 : end;
  }
  if (payload[0] !== MARK_CODE) return -1;
  const end = payload.indexOf(MARK_CODE, 1);
  return end > MAX_HEADER ? -1 : end;
}
