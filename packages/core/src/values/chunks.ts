import { createHash, randomBytes } from 'node:crypto';
import type { Payload } from '../contract/store';
import { CHUNKS, frameBytes, isFramed, MAGIC, readHeader } from './frame';

/**
 * Values above the backend's item limit (core README "Values: large values"): the stored bytes
 * are split into chunks under `<key>~c<suffix>:<n>` (a random suffix per write, so two writers
 * never mix their chunks) written before an index entry at the key itself that names them. The
 * suffix is a Redis Cluster hash tag (`{8 characters}`): every chunk of a write is in one slot, so
 * one MGET reads them all (indexes written before it name unbraced suffixes, and still read):
 * frame flags 8, then suffix length, suffix, count (u32), total bytes (u48), SHA-256 (first 16
 * bytes) of the joined chunks. A read joins the chunks the index names and checks the sum: a
 * missing or altered chunk reads as a miss.
 */
export interface ChunkIndex {
  readonly suffix: string;
  readonly count: number;
  readonly length: number;
  readonly checksum: Buffer;
}

const SUM_BYTES = 16;

/** The checksum of joined chunk bytes. */
export function checksum(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest().subarray(0, SUM_BYTES);
}

/** A fresh index for `bytes` split in chunks of `size`. */
export function indexFor(bytes: Uint8Array, size: number): ChunkIndex {
  return {
    suffix: `{${randomBytes(6).toString('base64url')}}`,
    count: Math.ceil(bytes.byteLength / size),
    length: bytes.byteLength,
    checksum: checksum(bytes),
  };
}

/** The chunk keys of an index at `key`. */
export function chunkKeys(key: string, index: ChunkIndex): string[] {
  const keys: string[] = [];
  for (let i = 0; i < index.count; i++) keys.push(`${key}~c${index.suffix}:${i}`);
  return keys;
}

/** True for a chunk's key (`keys()` leaves them out); suffixes without braces are from earlier versions. */
export function isChunkName(name: string): boolean {
  return /~c(\{[A-Za-z0-9_-]{8}\}|[A-Za-z0-9_-]{8}):\d+$/.test(name);
}

/** How many bytes a chunk key adds to its entry's key (for `maxKeyBytes`). */
export const CHUNK_KEY_BYTES = 24;

/** `bytes` split in pieces of `size` (views, no copy). */
export function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.byteLength; at += size)
    pieces.push(bytes.subarray(at, Math.min(at + size, bytes.byteLength)));
  return pieces;
}

/** The stored index entry. */
export function writeIndex(index: ChunkIndex): Buffer {
  const suffix = Buffer.from(index.suffix, 'latin1');
  const fixed = Buffer.alloc(4 + 6);
  fixed.writeUInt32BE(index.count, 0);
  fixed.writeUIntBE(index.length, 4, 6);
  return Buffer.concat([MAGIC, Uint8Array.of(CHUNKS, suffix.length), suffix, fixed, index.checksum]);
}

/** The index a stored payload is, or `undefined` when it is not one (a malformed index is not one either: a miss). */
export function readIndex(payload: Payload, key: string): ChunkIndex | undefined {
  if (!isFramed(payload)) return undefined;
  const bytes = frameBytes(payload);
  const header = readHeader(bytes, key);
  if (!(header.flags & CHUNKS)) return undefined;
  const at = header.offset;
  const suffixLength = bytes[at] ?? 0;
  const end = at + 1 + suffixLength + 10 + SUM_BYTES;
  if (bytes.byteLength !== end) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const suffix = view.toString('latin1', at + 1, at + 1 + suffixLength);
  const count = view.readUInt32BE(at + 1 + suffixLength);
  const length = view.readUIntBE(at + 5 + suffixLength, 6);
  return { suffix, count, length, checksum: Buffer.from(view.subarray(end - SUM_BYTES, end)) };
}

/** The joined bytes of `chunks` (aligned with the index's keys), or `undefined` when one is missing or the sum differs. */
export function join(index: ChunkIndex, chunks: readonly (Payload | undefined)[]): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (chunk === undefined) return undefined;
    // A driver that reads text first hands back valid UTF-8 as a string: its bytes are the chunk's.
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  const joined = Buffer.concat(parts);
  if (joined.byteLength !== index.length || !checksum(joined).equals(index.checksum)) return undefined;
  return joined;
}
