import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { ConfigError } from '../contract/errors';

/** One encryption key: its id (written in each entry's header) and 32 bytes of key (AES-256). */
export interface EncryptionKey {
  /** Names the key in the entries it writes: 1 to 64 characters of `[A-Za-z0-9._-]`. */
  id: string;
  /** 32 bytes, as a Buffer/Uint8Array or base64 text. */
  key: Uint8Array | string;
}

/** Options of `encrypt`: AES-256-GCM with rotation; the first key writes, every listed key reads. */
export interface EncryptOptions {
  /** The keys, newest first: the first encrypts, each is found by the id an entry names. */
  keys: readonly EncryptionKey[];
  /** Store keyed hashes of the keys (HMAC-SHA-256 under the last key), so no plaintext key shows in SCAN or a console. @default false */
  hashKeys?: boolean;
}

export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An `EncryptOptions` checked once: keys by id, the writing key, the key-name hasher. */
export class Keyring {
  readonly #keys = new Map<string, Buffer>();
  readonly writer: string;
  readonly #hashKey: Buffer | undefined;

  /** Validates `options` (`ConfigError` naming `variable`; a key's bytes are never printed). */
  constructor(options: EncryptOptions, variable = 'encrypt') {
    if (options === null || typeof options !== 'object' || !Array.isArray(options.keys) || options.keys.length === 0) {
      throw new ConfigError(`${variable} needs keys: [{ id, key }, ...] (at least one)`, variable);
    }
    for (const entry of options.keys) {
      const id = (entry as EncryptionKey | undefined)?.id;
      if (typeof id !== 'string' || !KEY_ID.test(id)) {
        throw new ConfigError(`${variable}: a key id must be 1-64 characters of A-Z a-z 0-9 . _ -`, variable);
      }
      if (this.#keys.has(id)) throw new ConfigError(`${variable}: key id '${id}' is listed twice`, variable);
      this.#keys.set(id, keyBytes(entry.key, id, variable));
    }
    this.writer = (options.keys[0] as EncryptionKey).id;
    const last = this.#keys.get((options.keys[options.keys.length - 1] as EncryptionKey).id) as Buffer;
    // The oldest key: a rotation adds keys in front, so hashed names survive it until the oldest retires.
    this.#hashKey =
      options.hashKeys === true ? Buffer.from(hkdfSync('sha256', last, '', 'larder key names', 32)) : undefined;
  }

  /** True when key names are stored hashed. */
  get hashesKeys(): boolean {
    return this.#hashKey !== undefined;
  }

  /** The key of `id`, `undefined` when this reader lacks it. */
  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  /** The keyed hash of a key name (base64url, 32 characters). */
  hashName(name: string): string {
    return createHmac('sha256', this.#hashKey as Buffer)
      .update(name)
      .digest('base64url')
      .slice(0, 32);
  }
}

function keyBytes(key: Uint8Array | string, id: string, variable: string): Buffer {
  let bytes: Buffer | undefined;
  if (key instanceof Uint8Array) bytes = Buffer.from(key);
  else if (typeof key === 'string' && /^[A-Za-z0-9+/_-]+={0,2}$/.test(key)) bytes = Buffer.from(key, 'base64');
  if (bytes?.length !== 32) {
    // Its length only: the key itself is a secret.
    const got = bytes === undefined ? 'not bytes nor base64 text' : `${bytes.length} bytes`;
    throw new ConfigError(`${variable}: key '${id}' must be 32 bytes (AES-256), base64 or bytes; got ${got}`, variable);
  }
  return bytes;
}

/** AES-256-GCM of `plain` under `key`, bound to `aad`: [iv, tag, ciphertext]. */
export function seal(key: Buffer, plain: Uint8Array, aad: Uint8Array): [Buffer, Buffer, Buffer] {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return [iv, cipher.getAuthTag(), body];
}

/** The plaintext of `body`; throws when it does not authenticate (altered, wrong key, other `aad`). */
export function open(key: Buffer, iv: Uint8Array, tag: Uint8Array, body: Uint8Array, aad: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}
