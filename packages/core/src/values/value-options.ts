import { ConfigError, describe } from '../contract/errors';
import type { EncryptOptions } from './cipher';
import type { Codec } from './codec';
import type { CompressOptions } from './value-steps';

/** A size in bytes: a number, or text such as '512kb', '64mb', '1gib' (k/m/g are 1024-based). */
export type ByteSize = number | `${number}${'b' | 'kb' | 'mb' | 'gb' | 'kib' | 'mib' | 'gib'}`;

/** The value pipeline's options (core README "Values"): codec -> compress -> encrypt -> chunk. */
export interface ValueOptions {
  /** Value codec: 'json' (the default), 'msgpack' (optional peer dependency msgpackr), or a custom one; ignored by stores with `capabilities.rawValues`. @default 'json' */
  codec?: Codec | 'json' | 'msgpack';
  /** Compress payloads of at least `minBytes` that shrink by `minSaving` (raw bytes, never base64). @default off */
  compress?: CompressOptions | false;
  /** AES-256-GCM with rotation (first key writes, every key reads) and optional hashed key names. @default off */
  encrypt?: EncryptOptions;
  /** The ceiling of a value: above the driver's item limit (memcached 1 MiB, DynamoDB 400 KB) values are stored in chunks. @default the driver's item limit */
  maxValueBytes?: ByteSize;
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$/i;

/** A `ByteSize` in whole bytes (> 0), or `ConfigError` naming `variable`. */
export function parseByteSize(size: unknown, variable = 'maxValueBytes'): number {
  let bytes = Number.NaN;
  if (typeof size === 'number') bytes = size;
  else if (typeof size === 'string') {
    const match = SIZE.exec(size);
    if (match) bytes = Number(match[1]) * (UNITS[(match[2] ?? 'b').toLowerCase()] as number);
  }
  if (!Number.isFinite(bytes) || bytes < 1 || bytes > Number.MAX_SAFE_INTEGER) {
    throw new ConfigError(
      `${variable} must be a size in bytes such as 1048576, '512kb' or '64mb', got ${describe(size)}`,
      variable,
    );
  }
  return Math.floor(bytes);
}
