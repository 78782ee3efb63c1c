import { type EncryptionKey, type EncryptOptions, Keyring } from '../values/cipher';
import type { CompressionAlgorithm } from '../values/compression';
import type { ValueOptions } from '../values/value-options';
import { resolveCompress } from '../values/value-steps';
import type { EnvReader } from './env-reader';

/** The value pipeline's variables core reads (core README "Values"). */
export const VALUE_VARIABLES = [
  'CACHE_CODEC',
  'CACHE_COMPRESS',
  'CACHE_COMPRESS_MIN_BYTES',
  'CACHE_ENCRYPTION_KEYS',
  'CACHE_HASH_KEYS',
  'CACHE_MAX_VALUE_BYTES',
  'SESSION_ENCRYPT',
] as const;

const ALGORITHMS = ['zstd', 'brotli', 'gzip', 'off'];
const BOOLEAN: Readonly<Record<string, boolean>> = {
  true: true,
  '1': true,
  yes: true,
  on: true,
  false: false,
  '0': false,
  no: false,
  off: false,
};

/** What the value variables configure: options for every store, the keys, and whether the session store encrypts. */
export interface ValuesFromEnv {
  /** `codec`, `compress`, `maxValueBytes` for every store configured from the environment. */
  readonly options: ValueOptions;
  /** `encrypt` from `CACHE_ENCRYPTION_KEYS` (and `CACHE_HASH_KEYS`): the default store's, and the session store's with `SESSION_ENCRYPT`. */
  readonly encrypt: EncryptOptions | undefined;
  readonly sessionEncrypt: boolean;
}

/** Reads and validates the value variables (`ConfigError` naming the variable; a key is never printed). */
export function valuesFromEnv(read: EnvReader): ValuesFromEnv {
  const options: ValueOptions = {};
  const codec = read.string('CACHE_CODEC');
  if (codec !== undefined) {
    if (codec !== 'json' && codec !== 'msgpack') throw read.invalid('CACHE_CODEC', codec, 'json or msgpack');
    options.codec = codec;
  }
  const algorithm = read.string('CACHE_COMPRESS');
  if (algorithm !== undefined && !ALGORITHMS.includes(algorithm)) {
    throw read.invalid('CACHE_COMPRESS', algorithm, ALGORITHMS.join(', '));
  }
  const minBytes = read.string('CACHE_COMPRESS_MIN_BYTES');
  if (minBytes !== undefined && !/^\d+$/.test(minBytes)) {
    throw read.invalid('CACHE_COMPRESS_MIN_BYTES', minBytes, 'a whole number of bytes, e.g. 1024');
  }
  // Set alone it would be ignored: a threshold the operator believes in but nothing applies. With
  // CACHE_COMPRESS=off it is kept, so compression can be switched off and on without removing it.
  if (minBytes !== undefined && algorithm === undefined) {
    throw read.error(
      'CACHE_COMPRESS_MIN_BYTES needs CACHE_COMPRESS (zstd, brotli or gzip): without it nothing is compressed',
      'CACHE_COMPRESS_MIN_BYTES',
    );
  }
  if (algorithm !== undefined && algorithm !== 'off') {
    options.compress = { algorithm: algorithm as CompressionAlgorithm };
    if (minBytes !== undefined) options.compress.minBytes = Number(minBytes);
    resolveCompress(options.compress, 'CACHE_COMPRESS');
  }
  const max = read.string('CACHE_MAX_VALUE_BYTES');
  if (max !== undefined) {
    if (!/^\d+(\.\d+)?\s*(b|kb|kib|mb|mib|gb|gib)?$/i.test(max)) {
      throw read.invalid('CACHE_MAX_VALUE_BYTES', max, "a size such as '64mb', '512kb' or a byte count");
    }
    options.maxValueBytes = max as ValueOptions['maxValueBytes'] & string;
  }
  const keys = encryptionKeys(read);
  const hashKeys = nameKey(read);
  const sessionEncrypt = read.boolean('SESSION_ENCRYPT') ?? false;
  if (keys === undefined && (hashKeys || sessionEncrypt)) {
    const variable = hashKeys ? 'CACHE_HASH_KEYS' : 'SESSION_ENCRYPT';
    throw read.error(`${variable} needs CACHE_ENCRYPTION_KEYS (id:base64key,...)`, variable);
  }
  const encrypt = keys === undefined ? undefined : { keys, ...(hashKeys ? { hashKeys } : {}) };
  if (hashKeys && encrypt !== undefined) new Keyring(encrypt, 'CACHE_HASH_KEYS');
  return { options, encrypt, sessionEncrypt };
}

/** `CACHE_HASH_KEYS`: a boolean, or a base64 32-byte key of the hashed names (kept through a rotation). Never printed. */
function nameKey(read: EnvReader): boolean | Buffer | undefined {
  const text = read.string('CACHE_HASH_KEYS');
  if (text === undefined) return undefined;
  if (/^[A-Za-z0-9+/_-]{40,}={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === 32) return bytes;
    throw read.error(
      `Invalid CACHE_HASH_KEYS: a key of ${bytes.length} bytes; the name key needs 32 (e.g. openssl rand -base64 32)`,
      'CACHE_HASH_KEYS',
    );
  }
  const on = BOOLEAN[text.toLowerCase()];
  if (on === undefined) throw read.invalid('CACHE_HASH_KEYS', text, 'true, false or a base64 32-byte name key');
  return on ? true : undefined;
}

/** `CACHE_ENCRYPTION_KEYS`: `id:base64key,...`, newest first. Errors name the item's position and id, never its key. */
function encryptionKeys(read: EnvReader): EncryptionKey[] | undefined {
  const text = read.string('CACHE_ENCRYPTION_KEYS');
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim());
  const keys = items.map((item, i) => {
    const colon = item.indexOf(':');
    const id = colon < 0 ? '' : item.slice(0, colon);
    const key = colon < 0 ? '' : item.slice(colon + 1);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id) || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(key)) {
      throw read.error(
        `Invalid CACHE_ENCRYPTION_KEYS: item ${i + 1} is not id:base64key (the value is not shown: it holds keys)`,
        'CACHE_ENCRYPTION_KEYS',
      );
    }
    const bytes = Buffer.from(key, 'base64');
    if (bytes.length !== 32) {
      throw read.error(
        `Invalid CACHE_ENCRYPTION_KEYS: key '${id}' is ${bytes.length} bytes; AES-256 needs 32 (e.g. openssl rand -base64 32)`,
        'CACHE_ENCRYPTION_KEYS',
      );
    }
    return { id, key: bytes };
  });
  new Keyring({ keys }, 'CACHE_ENCRYPTION_KEYS');
  return keys;
}
