import type { StoredView } from './policy';

/** A stored response: what a hit replays, and what the rules need to decide whether it may. */
export interface StoredResponse extends StoredView {
  /** Replayable headers (lower-case names). */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Epoch ms when it was stored (`Age` counts from then). */
  storedAt: number;
  /** Seconds of age it had when stored (its own `Age` header). */
  age: number;
  /** The resource generation it was stored under; it answers only while the resource still has it. */
  gen: string;
  /** Reserved for response tags (`Cache-Tag`, `responseCache({ tags })`): kept and read back as is. */
  tags?: string[];
}

/** The entry at a varying URI's base key: the header names its responses vary on. */
export interface VaryHead {
  t: 'v';
  /** Lower-case names, sorted. */
  v: string[];
  /** The resource generation it belongs to. */
  g: string;
}

// Two layouts, both one Buffer (so the Redis driver stores the body as raw bytes, no base64):
// - version 2, the one written: [2][u16 status][f64 storedAt][f64 expiresAt][u32 age][u8 flags]
//   [u32 text length][text][u32 tags length, tags JSON (flag 2 only)][body], the text being
//   latin1 `gen\nname\nvalue\n...`: a hit decodes it with one split, no JSON. Header values are
//   latin1 without line breaks (Node refuses anything else in a header), so `\n` separates them.
// - version 1: [1][u32 BE length of the JSON meta][meta][body], written when a header value
//   falls outside that (never, through Node's own checks) and still read.
const V1 = 1;
const V2 = 2;
const V2_HEAD = 28;
const SHARED = 1;
const TAGGED = 2;

interface Meta {
  s: number;
  h: Record<string, string | string[]>;
  at: number;
  exp: number;
  age: number;
  sh: 0 | 1;
  g: string;
  tags?: string[];
}

/** Encodes a stored response as one Buffer. */
export function encodeEntry(entry: StoredResponse): Buffer {
  const text = flatText(entry);
  if (text === undefined) return encodeV1(entry);
  const tags = entry.tags === undefined ? undefined : Buffer.from(JSON.stringify(entry.tags));
  const textLength = Buffer.byteLength(text, 'latin1');
  const tagsLength = tags === undefined ? 0 : 4 + tags.length;
  const out = Buffer.allocUnsafe(V2_HEAD + textLength + tagsLength + entry.body.length);
  out[0] = V2;
  out.writeUInt16BE(entry.status, 1);
  out.writeDoubleBE(entry.storedAt, 3);
  out.writeDoubleBE(entry.expiresAt, 11);
  out.writeUInt32BE(entry.age, 19);
  out[23] = (entry.shared ? SHARED : 0) | (tags === undefined ? 0 : TAGGED);
  out.writeUInt32BE(textLength, 24);
  out.write(text, V2_HEAD, 'latin1');
  let at = V2_HEAD + textLength;
  if (tags !== undefined) {
    out.writeUInt32BE(tags.length, at);
    tags.copy(out, at + 4);
    at += tagsLength;
  }
  entry.body.copy(out, at);
  return out;
}

/** Decodes what `encodeEntry` wrote; `undefined` for anything else (another version, or garbage). */
export function decodeEntry(value: unknown): StoredResponse | undefined {
  if (!(value instanceof Uint8Array) || value.length < 5) return undefined;
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes[0] === V2 && bytes.length >= V2_HEAD) return decodeV2(bytes);
  return bytes[0] === V1 ? decodeV1(bytes) : undefined;
}

// `gen\nname\nvalue...` in latin1, or `undefined` when a header value cannot be written so.
function flatText(entry: StoredResponse): string | undefined {
  if (!Number.isInteger(entry.status) || entry.status < 0 || entry.status > 0xffff) return undefined;
  if (!Number.isInteger(entry.age) || entry.age < 0 || entry.age > 0xffffffff) return undefined;
  let text = entry.gen;
  if (!plain(text)) return undefined;
  const headers = entry.headers;
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if (!plain(name)) return undefined;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (!plain(one)) return undefined;
      text += `\n${name}\n${one}`;
    }
  }
  return text;
}

// Latin1 without a line break.
function plain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c > 0xff) return false;
  }
  return true;
}

function decodeV2(bytes: Buffer): StoredResponse | undefined {
  const textLength = bytes.readUInt32BE(24);
  let at = V2_HEAD + textLength;
  if (at > bytes.length) return undefined;
  const parts = bytes.toString('latin1', V2_HEAD, at).split('\n');
  if (parts.length % 2 !== 1) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i] as string;
    const value = parts[i + 1] as string;
    const before = headers[name];
    if (before === undefined) headers[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else headers[name] = [before, value];
  }
  const flags = bytes[23] as number;
  let tags: string[] | undefined;
  if (flags & TAGGED) {
    if (at + 4 > bytes.length) return undefined;
    const length = bytes.readUInt32BE(at);
    if (at + 4 + length > bytes.length) return undefined;
    try {
      tags = JSON.parse(bytes.toString('utf8', at + 4, at + 4 + length)) as string[];
    } catch {
      return undefined;
    }
    at += 4 + length;
  }
  const body = bytes.subarray(at);
  const entry: StoredResponse = {
    status: bytes.readUInt16BE(1),
    headers,
    body,
    length: body.length,
    storedAt: bytes.readDoubleBE(3),
    expiresAt: bytes.readDoubleBE(11),
    age: bytes.readUInt32BE(19),
    shared: (flags & SHARED) !== 0,
    gen: parts[0] as string,
  };
  if (tags !== undefined) entry.tags = tags;
  return entry;
}

function encodeV1(entry: StoredResponse): Buffer {
  const meta: Meta = {
    s: entry.status,
    h: entry.headers,
    at: entry.storedAt,
    exp: entry.expiresAt,
    age: entry.age,
    sh: entry.shared ? 1 : 0,
    g: entry.gen,
  };
  if (entry.tags !== undefined) meta.tags = entry.tags;
  const json = Buffer.from(JSON.stringify(meta));
  const out = Buffer.allocUnsafe(5 + json.length + entry.body.length);
  out[0] = V1;
  out.writeUInt32BE(json.length, 1);
  json.copy(out, 5);
  entry.body.copy(out, 5 + json.length);
  return out;
}

function decodeV1(bytes: Buffer): StoredResponse | undefined {
  const metaLength = bytes.readUInt32BE(1);
  if (5 + metaLength > bytes.length) return undefined;
  let meta: Meta;
  try {
    meta = JSON.parse(bytes.toString('utf8', 5, 5 + metaLength)) as Meta;
  } catch {
    return undefined;
  }
  const body = bytes.subarray(5 + metaLength);
  return {
    status: meta.s,
    headers: meta.h,
    body,
    length: body.length,
    storedAt: meta.at,
    expiresAt: meta.exp,
    age: meta.age,
    shared: meta.sh === 1,
    gen: meta.g,
    ...(meta.tags === undefined ? {} : { tags: meta.tags }),
  };
}

/** Whether a stored value is a vary head. */
export function isVaryHead(value: unknown): value is VaryHead {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as VaryHead).t === 'v' &&
    Array.isArray((value as VaryHead).v) &&
    typeof (value as VaryHead).g === 'string'
  );
}
