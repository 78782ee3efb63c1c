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
  /**
   * Store keyed hashes of the key names (HMAC-SHA-256), so no plaintext key shows in SCAN or a console:
   * a 32-byte name key of its own (base64 or bytes), which a rotation of `keys` leaves alone, or `true`
   * with a single key, which then keys the names too (passing that key here later keeps the names). @default false
   */
  hashKeys?: boolean | Uint8Array | string;
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
    const nameKey = nameKeyOf(options, this.#keys.get(this.writer) as Buffer, variable);
    this.#hashKey =
      nameKey === undefined ? undefined : Buffer.from(hkdfSync('sha256', nameKey, '', 'larder key names', 32));
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

/**
 * The key that hashes key names, or `undefined` without `hashKeys`. It must not change while entries
 * live: a rotation lists two keys, then drops one, and a name hashed under either would change at one
 * of those steps, losing every entry and session. So `true` is refused beside a second key.
 */
function nameKeyOf(options: EncryptOptions, only: Buffer, variable: string): Buffer | undefined {
  const { hashKeys } = options;
  if (hashKeys === undefined || hashKeys === false) return undefined;
  if (hashKeys === true) {
    if (options.keys.length === 1) return only;
    throw new ConfigError(
      `${variable}: hashKeys: true keys the hashed names with the only encryption key, and a rotation would rename every entry; ` +
        'give hashKeys a 32-byte key of its own (the key listed until now keeps the names already stored)',
      variable,
    );
  }
  if (hashKeys instanceof Uint8Array || typeof hashKeys === 'string') return keyBytes(hashKeys, 'hashKeys', variable);
  throw new ConfigError(`${variable}: hashKeys must be true, false or a 32-byte key (base64 or bytes)`, variable);
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
