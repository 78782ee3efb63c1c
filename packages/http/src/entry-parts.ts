import type { StoredResponse } from './entry';

// The parts of a stored response's head. The binary layout (entry.ts version 3): the fixed fields,
// and the header text, latin1 `gen\nname\nvalue\n...`, decoded by a hit with one split and no
// JSON. The JSON one (entry.ts version 4): `[version][u32 length][JSON meta]`. Header values are latin1 without line breaks (Node refuses anything else in
// a header, and a Web `Headers` value is a ByteString), so `\n` separates them.

/** `gen\nname\nvalue...` in latin1, or `undefined` when a part cannot be written so. */
export function flatText(gen: string, headers: Record<string, string | string[]>): string | undefined {
  if (!plain(gen)) return undefined;
  let text = gen;
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

// The generation and headers `flatText` wrote; `undefined` for an odd split.
function parseFlatText(text: string): { gen: string; headers: Record<string, string | string[]> } | undefined {
  const parts = text.split('\n');
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
  return { gen: parts[0] as string, headers };
}

const SHARED = 1;
const TAGGED = 2;
const NO_BODY = Buffer.alloc(0);

/** The flags byte: shared, tagged. */
export function flagsOf(shared: boolean, tagged: boolean): number {
  return (shared ? SHARED : 0) | (tagged ? TAGGED : 0);
}

/**
 * The fields at `[0][u16 status][f64 storedAt][f64 expiresAt][u32 age][u8 flags]`, the header text
 * at `textStart..textEnd` and the tags after it (flag 2): the entry without a body, and the offset
 * after the tags; `undefined` for a text or tags that do not parse.
 */
export function readBinaryHead(
  bytes: Buffer,
  textStart: number,
  textEnd: number,
): { entry: StoredResponse; end: number } | undefined {
  if (textEnd > bytes.length) return undefined;
  const text = parseFlatText(bytes.toString('latin1', textStart, textEnd));
  if (text === undefined) return undefined;
  const flags = bytes[23] as number;
  const entry: StoredResponse = {
    status: bytes.readUInt16BE(1),
    headers: text.headers,
    body: NO_BODY,
    length: 0,
    storedAt: bytes.readDoubleBE(3),
    expiresAt: bytes.readDoubleBE(11),
    age: bytes.readUInt32BE(19),
    shared: (flags & SHARED) !== 0,
    gen: text.gen,
  };
  if (!(flags & TAGGED)) return { entry, end: textEnd };
  const tags = readTags(bytes, textEnd);
  if (tags === undefined) return undefined;
  entry.tags = tags.tags;
  return { entry, end: tags.end };
}

// The JSON tags at `at` (`[u32 length][JSON]`): the tags and the offset after them.
function readTags(bytes: Buffer, at: number): { tags: string[]; end: number } | undefined {
  if (at + 4 > bytes.length) return undefined;
  const length = bytes.readUInt32BE(at);
  const end = at + 4 + length;
  if (end > bytes.length) return undefined;
  try {
    return { tags: JSON.parse(bytes.toString('utf8', at + 4, end)) as string[], end };
  } catch {
    return undefined;
  }
}

// Latin1 without a line break.
function plain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c > 0xff) return false;
  }
  return true;
}

/** The JSON meta of the JSON layouts (version 4 adds its body's `id` and `bu`, the body's until). */
export interface JsonMeta {
  s: number;
  h: Record<string, string | string[]>;
  at: number;
  exp: number;
  age: number;
  sh: 0 | 1;
  g: string;
  tags?: string[];
  id?: string;
  bu?: number;
}

/** The JSON meta at `[version][u32 length][JSON]` and the offset after it; `undefined` when it does not parse. */
export function readJsonHead(bytes: Buffer): { meta: JsonMeta; end: number } | undefined {
  if (bytes.length < 5) return undefined;
  const end = 5 + bytes.readUInt32BE(1);
  if (end > bytes.length) return undefined;
  try {
    const meta = JSON.parse(bytes.toString('utf8', 5, end)) as JsonMeta;
    return typeof meta === 'object' && meta !== null ? { meta, end } : undefined;
  } catch {
    return undefined;
  }
}

/** The stored response a JSON meta describes, with `body`. */
export function entryOfMeta(meta: JsonMeta, body: Buffer): StoredResponse {
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
