import type { StoredResponse } from './entry';
import { parseFlatText, readTags } from './entry-text';

// The format before heads and bodies were stored apart (one Buffer per response, body included),
// still read so that entries written by an earlier version answer until they expire:
// - version 2: [2][u16 status][f64 storedAt][f64 expiresAt][u32 age][u8 flags][u32 text length]
//   [text `gen\nname\nvalue...`][u32 tags length, tags JSON (flag 2 only)][body];
// - version 1: [1][u32 BE length of the JSON meta][meta][body].
// Such an entry carries no `bodyRef`: its first 304 revalidation stores it in the current format.

const V2_HEAD = 28;
const SHARED = 1;
const TAGGED = 2;

/** Decodes a version 1 or 2 entry; `undefined` for anything else. */
export function decodeLegacy(bytes: Buffer): StoredResponse | undefined {
  if (bytes[0] === 2 && bytes.length >= V2_HEAD) return decodeV2(bytes);
  return bytes[0] === 1 ? decodeV1(bytes) : undefined;
}

function decodeV2(bytes: Buffer): StoredResponse | undefined {
  let at = V2_HEAD + bytes.readUInt32BE(24);
  if (at > bytes.length) return undefined;
  const text = parseFlatText(bytes.toString('latin1', V2_HEAD, at));
  if (text === undefined) return undefined;
  const flags = bytes[23] as number;
  let tags: string[] | undefined;
  if (flags & TAGGED) {
    const read = readTags(bytes, at);
    if (read === undefined) return undefined;
    tags = read.tags;
    at = read.end;
  }
  const body = bytes.subarray(at);
  const entry: StoredResponse = {
    status: bytes.readUInt16BE(1),
    headers: text.headers,
    body,
    length: body.length,
    storedAt: bytes.readDoubleBE(3),
    expiresAt: bytes.readDoubleBE(11),
    age: bytes.readUInt32BE(19),
    shared: (flags & SHARED) !== 0,
    gen: text.gen,
  };
  if (tags !== undefined) entry.tags = tags;
  return entry;
}

interface MetaV1 {
  s: number;
  h: Record<string, string | string[]>;
  at: number;
  exp: number;
  age: number;
  sh: 0 | 1;
  g: string;
  tags?: string[];
}

function decodeV1(bytes: Buffer): StoredResponse | undefined {
  if (bytes.length < 5) return undefined;
  const metaLength = bytes.readUInt32BE(1);
  if (5 + metaLength > bytes.length) return undefined;
  let meta: MetaV1;
  try {
    meta = JSON.parse(bytes.toString('utf8', 5, 5 + metaLength)) as MetaV1;
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
