import type { StoredResponse } from './entry';
import { entryOfMeta, readBinaryHead, readJsonHead } from './entry-parts';

// The format before heads and bodies were stored apart (one Buffer per response, body included),
// still read so that entries written by an earlier version answer until they expire:
// - version 2: [2][u16 status][f64 storedAt][f64 expiresAt][u32 age][u8 flags][u32 text length]
//   [text `gen\nname\nvalue...`][u32 tags length, tags JSON (flag 2 only)][body];
// - version 1: [1][u32 BE length of the JSON meta][meta][body].
// Such an entry carries no `bodyRef`: its first 304 revalidation stores it in the current format.

const V2_HEAD = 28;

/** Decodes a version 1 or 2 entry; `undefined` for anything else. */
export function decodeLegacy(bytes: Buffer): StoredResponse | undefined {
  if (bytes[0] === 2 && bytes.length >= V2_HEAD) return decodeV2(bytes);
  return bytes[0] === 1 ? decodeV1(bytes) : undefined;
}

function decodeV2(bytes: Buffer): StoredResponse | undefined {
  const read = readBinaryHead(bytes, V2_HEAD, V2_HEAD + bytes.readUInt32BE(24));
  if (read === undefined) return undefined;
  read.entry.body = bytes.subarray(read.end);
  read.entry.length = read.entry.body.length;
  return read.entry;
}

function decodeV1(bytes: Buffer): StoredResponse | undefined {
  const read = readJsonHead(bytes);
  return read && entryOfMeta(read.meta, bytes.subarray(read.end));
}
