import { ConfigError, DecryptionError, describe, MissingValueStepError, SerializationError } from '../contract/errors';
import type { Payload } from '../contract/store';
import { type EncryptOptions, IV_BYTES, Keyring, open, seal, TAG_BYTES } from './cipher';
import {
  ALGORITHM_IDS,
  available,
  type CompressionAlgorithm,
  compress,
  decompress,
  defaultAlgorithm,
  HAS_ZSTD,
} from './compression';
import { COMPRESSED, ENCRYPTED, type FrameHeader, TEXT, writeHeader } from './frame';

/** Options of `compress`: values of at least `minBytes` that shrink by at least `minSaving` are stored compressed. */
export interface CompressOptions {
  /** @default 'zstd' where this Node has it (>= 22.15), else 'brotli' */
  algorithm?: CompressionAlgorithm;
  /** Smaller payloads are stored as they are: compression saves nothing on them once the header counts. @default 1024 */
  minBytes?: number;
  /** The fraction of bytes compression must save, else the payload is stored as it is. @default 0.1 */
  minSaving?: number;
}

interface Compression {
  readonly algorithm: CompressionAlgorithm;
  readonly minBytes: number;
  readonly keep: number;
}

const INTEGER = /^-?\d+$/;
const TEXT_ENCODER = new TextEncoder();

/** Checks `compress` options once (`ConfigError` naming `variable`). */
export function resolveCompress(options: CompressOptions, variable = 'compress'): Compression {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(
      `${variable} must be an object { algorithm, minBytes, minSaving }, got ${describe(options)}`,
      variable,
    );
  }
  const algorithm = options.algorithm ?? defaultAlgorithm();
  if (algorithm !== 'zstd' && algorithm !== 'brotli' && algorithm !== 'gzip') {
    throw new ConfigError(
      `${variable}.algorithm must be 'zstd', 'brotli' or 'gzip', got ${describe(algorithm)}`,
      variable,
    );
  }
  if (!available(algorithm)) {
    throw new ConfigError(
      `${variable}: zstd needs Node >= 22.15 (this is ${process.version}); use 'brotli' or 'gzip'`,
      variable,
    );
  }
  const minBytes = options.minBytes ?? 1024;
  if (!Number.isSafeInteger(minBytes) || minBytes < 0) {
    throw new ConfigError(
      `${variable}.minBytes must be a whole number of bytes >= 0, got ${describe(minBytes)}`,
      variable,
    );
  }
  const minSaving = options.minSaving ?? 0.1;
  if (typeof minSaving !== 'number' || !(minSaving >= 0 && minSaving < 1)) {
    throw new ConfigError(`${variable}.minSaving must be a fraction in [0, 1), got ${describe(minSaving)}`, variable);
  }
  return { algorithm, minBytes, keep: 1 - minSaving };
}

/**
 * The compress and encrypt steps of the value pipeline (codec -> compress -> encrypt -> chunk;
 * core README "Values"): `seal` turns an encoded payload into what is stored, `open` reverses it
 * for any entry, whichever steps it went through (`frame.ts` says which).
 */
export class ValueSteps {
  readonly #compression: Compression | undefined;
  readonly keyring: Keyring | undefined;

  constructor(compress: CompressOptions | false | undefined, encrypt: EncryptOptions | undefined) {
    this.#compression = compress === undefined || compress === false ? undefined : resolveCompress(compress);
    this.keyring = encrypt === undefined ? undefined : new Keyring(encrypt);
  }

  /**
   * What is stored for `payload` of full key `full`: as it is when no step applies (small, or
   * not shrinking, and no encryption), else framed. Plain decimal text (a counter) is never
   * framed: the backends' counters (`INCRBY`, `incr`, `ADD`) do its arithmetic.
   */
  async seal(payload: Payload, full: string): Promise<Payload> {
    if (typeof payload === 'string' && payload.length <= 20 && INTEGER.test(payload)) return payload;
    const text = typeof payload === 'string';
    const bytes = text ? TEXT_ENCODER.encode(payload) : payload;
    let flags = text ? TEXT : 0;
    let body: Uint8Array = bytes;
    const compression = this.#compression;
    if (compression !== undefined && bytes.byteLength >= compression.minBytes) {
      const packed = await compress(compression.algorithm, bytes);
      if (packed.byteLength <= bytes.byteLength * compression.keep) {
        body = packed;
        flags |= COMPRESSED;
      }
    }
    const keyring = this.keyring;
    if (keyring === undefined) {
      if (!(flags & COMPRESSED)) return payload;
      return Buffer.concat([
        writeHeader(flags, ALGORITHM_IDS[compression?.algorithm as CompressionAlgorithm], undefined),
        body,
      ]);
    }
    flags |= ENCRYPTED;
    const header = writeHeader(flags, compression ? ALGORITHM_IDS[compression.algorithm] : 0, keyring.writer);
    const [iv, tag, sealed] = seal(keyring.key(keyring.writer) as Buffer, body, aad(header, full));
    return Buffer.concat([header, iv, tag, sealed]);
  }

  /** The payload a framed entry holds (`header` read from `bytes`); typed errors for a step this reader lacks or bytes that do not authenticate. */
  async open(bytes: Uint8Array, header: FrameHeader, full: string): Promise<Payload> {
    let body = bytes.subarray(header.offset);
    if (header.flags & ENCRYPTED) {
      const id = header.keyId as string;
      const key = this.keyring?.key(id);
      if (key === undefined) {
        throw new MissingValueStepError(
          full,
          'encrypt',
          this.keyring === undefined
            ? `it is encrypted with key id '${id}' and this cache has no encrypt keys`
            : `it is encrypted with key id '${id}', which is not among this cache's keys`,
        );
      }
      if (body.byteLength < IV_BYTES + TAG_BYTES) throw new DecryptionError(full, id);
      const iv = body.subarray(0, IV_BYTES);
      const tag = body.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
      try {
        body = open(key, iv, tag, body.subarray(IV_BYTES + TAG_BYTES), aad(bytes.subarray(0, header.offset), full));
      } catch (error) {
        throw new DecryptionError(full, id, { cause: error });
      }
    }
    if (header.flags & COMPRESSED) {
      const algorithm = header.algorithm;
      if (algorithm === undefined || !available(algorithm)) {
        const why =
          algorithm === 'zstd' && !HAS_ZSTD
            ? `it is compressed with zstd, which this Node (${process.version}) lacks (Node >= 22.15 has it)`
            : `it is compressed with an unknown algorithm (id ${header.algorithmId})`;
        throw new MissingValueStepError(full, 'compress', why);
      }
      try {
        body = await decompress(algorithm, body);
      } catch (error) {
        throw new SerializationError(`Cannot decompress the entry of key '${full}' (${algorithm})`, full, {
          cause: error,
        });
      }
    }
    return header.flags & TEXT ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : body;
  }
}

/** The additional data of an entry's encryption: its frame header and its full key, so a ciphertext moved to another key (or a flag flipped) does not decrypt. */
function aad(header: Uint8Array, full: string): Buffer {
  return Buffer.concat([header, Buffer.from(full, 'utf8')]);
}
