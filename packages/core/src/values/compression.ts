import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

/** A compression algorithm of the value pipeline. */
export type CompressionAlgorithm = 'zstd' | 'brotli' | 'gzip';

/** Its id in an entry's frame header (`frame.ts`): part of the stored format. */
export const ALGORITHM_IDS: Readonly<Record<CompressionAlgorithm, number>> = { gzip: 1, brotli: 2, zstd: 3 };

/** The algorithm of a frame header id, `undefined` for an unknown id. */
export function algorithmOf(id: number): CompressionAlgorithm | undefined {
  return id === 1 ? 'gzip' : id === 2 ? 'brotli' : id === 3 ? 'zstd' : undefined;
}

type Sync = (input: Uint8Array, options?: object) => Buffer;
type Async = (input: Uint8Array, options?: object) => Promise<Buffer>;

// zstd arrived in `node:zlib` with Node 22.15 (and 23.8); @types/node 20 does not declare it.
const z = zlib as unknown as Record<string, Sync | undefined> & { constants: Record<string, number> };

/** True when this Node's `node:zlib` has zstd (Node >= 22.15), checked at run time. */
export const HAS_ZSTD = typeof z.zstdCompressSync === 'function';

/** The algorithm `compress: {}` picks: zstd where this Node has it, else brotli (`CACHE_COMPRESS` names one). */
export function defaultAlgorithm(): CompressionAlgorithm {
  return HAS_ZSTD ? 'zstd' : 'brotli';
}

/** True when this process can compress and decompress with `algorithm`. */
export function available(algorithm: CompressionAlgorithm): boolean {
  return algorithm !== 'zstd' || HAS_ZSTD;
}

// Levels for a cache, where the value is compressed on every write. Brotli's default (11) costs
// about 100x the time of the middle qualities. Quality 6 is the first that stores fewer bytes than
// quality 11 plus base64 (keyv's adapter) on 30 KB and 300 KB of JSON (bench corpus, bytes per
// value: q4 4,300 and 31,064, q5 3,688 and 27,259, q6 3,497 and 25,983; keyv 4,167 and 27,610):
// quality 4 was above it, since from quality 5 brotli searches longer matches and models context.
const BROTLI = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 6 } };
const GZIP = { level: 6 };
const ZSTD = { params: { [z.constants.ZSTD_c_compressionLevel ?? 100]: 3 } };

// Below this many bytes the work is done on the calling thread: a trip to the thread pool costs
// more than compressing a small value.
const INLINE_BYTES = 64 * 1024;

const sync: Record<CompressionAlgorithm, [Sync, Sync, object]> = {
  gzip: [zlib.gzipSync, zlib.gunzipSync, GZIP],
  brotli: [zlib.brotliCompressSync, zlib.brotliDecompressSync, BROTLI],
  zstd: [z.zstdCompressSync as Sync, z.zstdDecompressSync as Sync, ZSTD],
};

const threaded: Record<CompressionAlgorithm, [Async, Async]> = {
  gzip: [promisify(zlib.gzip), promisify(zlib.gunzip)],
  brotli: [promisify(zlib.brotliCompress), promisify(zlib.brotliDecompress)],
  zstd: HAS_ZSTD
    ? [promisify(z.zstdCompress as never) as Async, promisify(z.zstdDecompress as never) as Async]
    : [missing, missing],
};

function missing(): Promise<Buffer> {
  return Promise.reject(new Error('zstd is not available in this Node'));
}

/** `bytes` compressed with `algorithm` (which must be `available`). */
export function compress(algorithm: CompressionAlgorithm, bytes: Uint8Array): Buffer | Promise<Buffer> {
  const [deflate, , options] = sync[algorithm];
  if (bytes.byteLength < INLINE_BYTES) return deflate(bytes, options);
  return (threaded[algorithm][0] as Async)(bytes, options);
}

/** `bytes` decompressed with `algorithm` (which must be `available`); throws on corrupt input. */
export function decompress(algorithm: CompressionAlgorithm, bytes: Uint8Array): Buffer | Promise<Buffer> {
  if (bytes.byteLength < INLINE_BYTES / 4) return (sync[algorithm][1] as Sync)(bytes);
  return (threaded[algorithm][1] as Async)(bytes);
}
