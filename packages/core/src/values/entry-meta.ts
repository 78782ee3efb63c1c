import type { Payload, TtlMs } from '../contract/store';
import type { Codec } from './codec';

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
/**
 * A tagged entry's tag section follows its header: `\u0002<tag>\u0003<version>\u0004<tag>...\u0002`
 * (tags hold no control characters, so the marks are unambiguous; `tags/tag-section.ts`). A read
 * checking it hands it on with `\u0005` (soft-invalidated) or `\u0006` (gone) in place of the opening mark.
 */
export const TAGS_MARK = '\u0002';
const TAGS_CODE = 2;
const SOFT_CODE = 5;
const GONE_CODE = 6;

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

/**
 * `payload` with its header's expiry made `ttlMs` from `now` (its write time and everything after
 * the header kept byte for byte), or `undefined` when it has no header: what `touch` stores, so
 * the header never names an expiry the store no longer has.
 */
export function withExpiry(payload: Payload, ttlMs: TtlMs, now: number): Payload | undefined {
  const meta = metaOf(payload);
  if (meta === undefined) return undefined;
  const end = headerEnd(payload);
  const expiry = ttlMs === undefined ? '' : (now + ttlMs).toString(36);
  const header = `${META_MARK}${meta.writtenAt.toString(36)},${expiry}${META_MARK}`;
  if (typeof payload === 'string') return header + payload.slice(end + 1);
  return Buffer.concat([Buffer.from(header, 'latin1'), payload.subarray(end + 1)]);
}

/** Where a text payload's unmarked tag section opens (the index of its first tag), or -1 when it has none. */
export function tagSectionStart(payload: string): number {
  if (payload.charCodeAt(0) !== MARK_CODE) return -1;
  const header = payload.indexOf(META_MARK, 1);
  if (header < 0 || header > MAX_HEADER || payload.charCodeAt(header + 1) !== TAGS_CODE) return -1;
  return header + 2;
}

/** The tag section of a payload (its text between the marks) and how a read marked it; `undefined` when untagged. */
export function tagSectionOf(payload: Payload): { text: string; mark: TagMark | undefined } | undefined {
  // Every read of a JSON-codec entry asks: `headerEnd` inlined for text, the common case.
  let header = -1;
  if (typeof payload !== 'string') header = headerEnd(payload);
  else if (payload.charCodeAt(0) === MARK_CODE) header = payload.indexOf(META_MARK, 1);
  const start = header > MAX_HEADER ? 0 : header + 1;
  if (start <= 0) return undefined;
  const open = typeof payload === 'string' ? payload.charCodeAt(start) : payload[start];
  if (open !== TAGS_CODE && open !== SOFT_CODE && open !== GONE_CODE) return undefined;
  const end =
    typeof payload === 'string' ? payload.indexOf(TAGS_MARK, start + 1) : payload.indexOf(TAGS_CODE, start + 1);
  if (end < 0) return undefined;
  const text =
    typeof payload === 'string'
      ? payload.slice(start + 1, end)
      : Buffer.from(payload.buffer, payload.byteOffset + start + 1, end - start - 1).toString('utf8');
  return { text, mark: open === SOFT_CODE ? 'soft' : open === GONE_CODE ? 'gone' : undefined };
}

/** What a read found of a tagged entry's tags: `soft` (soft-invalidated: stale), `gone` (hard-invalidated or its state is missing: a miss). */
export type TagMark = 'soft' | 'gone';

/** How a read marked `payload` (see `marked`), `undefined` when it did not. */
export function markOf(payload: Payload): TagMark | undefined {
  const start = headerEnd(payload) + 1;
  if (start <= 0) return undefined;
  const code = typeof payload === 'string' ? payload.charCodeAt(start) : payload[start];
  return code === SOFT_CODE ? 'soft' : code === GONE_CODE ? 'gone' : undefined;
}

/**
 * A tagged `payload` as a read hands it on once its tags are checked: marked `soft` (decoded, a
 * stale entry) or `gone` (decoded, nothing), or as stored (`undefined`: `unmarked`). The mark is
 * the tag section's opening character, so `unmarked(marked(p, m))` is `p` byte for byte (what
 * `remember` compares before it overwrites).
 */
export function marked(payload: Payload, mark: TagMark | undefined): Payload {
  const start = headerEnd(payload) + 1;
  const code = mark === 'soft' ? SOFT_CODE : mark === 'gone' ? GONE_CODE : TAGS_CODE;
  if (typeof payload === 'string')
    return `${payload.slice(0, start)}${String.fromCharCode(code)}${payload.slice(start + 1)}`;
  const copy = Uint8Array.from(payload);
  copy[start] = code;
  return copy;
}

/** `payload` as stored (without a read's mark). */
export function unmarked(payload: Payload): Payload {
  return markOf(payload) === undefined ? payload : marked(payload, undefined);
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

/**
 * Decodes `payload` with `codec` in one pass over its header: the body (as given without a
 * header), nothing for an entry a read marked `gone`, `soft(decoded)` for one marked `soft`.
 */
export function decodeEntry(payload: Payload, codec: Codec, key: string, soft: (decoded: unknown) => unknown): unknown {
  const end = headerEnd(payload);
  if (end < 0) return codec.decode(payload, key);
  const open = typeof payload === 'string' ? payload.charCodeAt(end + 1) : payload[end + 1];
  if (open !== TAGS_CODE && open !== SOFT_CODE && open !== GONE_CODE) {
    return codec.decode(typeof payload === 'string' ? payload.slice(end + 1) : payload.subarray(end + 1), key);
  }
  if (open === GONE_CODE) return undefined;
  const decoded = codec.decode(bodyOf(payload), key);
  return open === SOFT_CODE ? soft(decoded) : decoded;
}

/** `payload` without its header (as given when it has none). */
export function bodyOf(payload: Payload): Payload {
  let end = headerEnd(payload);
  if (end < 0) return payload;
  const open = typeof payload === 'string' ? payload.charCodeAt(end + 1) : payload[end + 1];
  if (open === TAGS_CODE || open === SOFT_CODE || open === GONE_CODE) {
    const close =
      typeof payload === 'string' ? payload.indexOf(TAGS_MARK, end + 2) : payload.indexOf(TAGS_CODE, end + 2);
    if (close > 0) end = close;
  }
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
