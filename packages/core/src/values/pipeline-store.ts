import { ChunkedValueError, UnsupportedOperationError, ValueTooLargeError } from '../contract/errors';
import type { CacheStore, Payload, StoreCapabilities, TtlMs } from '../contract/store';
import {
  CHUNK_KEY_BYTES,
  type ChunkIndex,
  chunkKeys,
  indexFor,
  isChunkName,
  join,
  readIndex,
  split,
  writeIndex,
} from './chunks';
import { payloadBytes } from './codec';
import { CHUNKS, frameBytes, isFramed, readHeader, TEXT, writeHeader } from './frame';
import type { ValueSteps } from './value-steps';

/** What `PipelineStore` adds to the store it wraps. */
export interface PipelineSettings {
  readonly steps: ValueSteps;
  /** The ceiling of a value; above the store's item limit values are chunked. `undefined`: the store's limit. */
  readonly maxValueBytes: number | undefined;
  /** The cache's key prefix (with its separator): with hashed key names, `clear` of it is the one it can do. */
  readonly basePrefix: string;
}

// Chunks outlive their index by this much, so an index never names chunks that expired first.
const CHUNK_SLACK_MS = 2000;
// Chunks written per store call: a DynamoDB BatchWriteItem takes 16 MB at most.
const CHUNKS_PER_CALL = 8;

/**
 * The value pipeline's steps after the codec (compress -> encrypt -> chunk) and `hashKeys`, as a
 * store around the driver's: the facade above sees payloads as its codec wrote them (metadata
 * header and tag section included), the driver below sees framed bytes (`frame.ts`). Entries
 * written without a step read back as they are, so a store can turn steps on with its data in
 * place. `add` and `compareAndSet` stay atomic on the stored entry (a chunked value's index);
 * `increment` of a chunked value cannot be done by the backend and is refused (`ChunkedValueError`).
 */
export class PipelineStore implements CacheStore {
  readonly driver: string;
  readonly capabilities: StoreCapabilities;
  readonly address?: string;
  readonly #inner: CacheStore;
  readonly #steps: ValueSteps;
  readonly #basePrefix: string;
  /** Bytes a stored item may have: above it a value is chunked (when `#chunking`) or refused. */
  readonly #itemBytes: number;
  readonly #chunking: boolean;

  constructor(inner: CacheStore, settings: PipelineSettings) {
    this.#inner = inner;
    this.#steps = settings.steps;
    this.#basePrefix = settings.basePrefix;
    this.driver = inner.driver;
    if (inner.address !== undefined) this.address = inner.address;
    const caps = inner.capabilities;
    this.#itemBytes = caps.maxValueBytes;
    const ceiling = settings.maxValueBytes ?? caps.maxValueBytes;
    this.#chunking = ceiling > caps.maxValueBytes;
    const hashed = this.#steps.keyring?.hashesKeys === true;
    // No `deadlineMs`: one call here may be several store calls; the facade's timer bounds it whole.
    const { deadlineMs: _, ...rest } = caps;
    this.capabilities = {
      ...rest,
      maxValueBytes: Math.max(ceiling, caps.maxValueBytes),
      maxKeyBytes: hashed ? Number.MAX_SAFE_INTEGER : caps.maxKeyBytes - (this.#chunking ? CHUNK_KEY_BYTES : 0),
    };
    // A method the driver lacks is absent here too (the facade emulates or refuses it).
    const own = this as unknown as Record<string, unknown>;
    for (const name of OPTIONAL) if (typeof inner[name] !== 'function') own[name] = undefined;
    // Hashed names cannot be listed back, and Redis tracking would report them hashed.
    if (hashed) own.keys = own.invalidation = undefined;
  }

  /** The name the store keeps `key` under: its keyed hash with `hashKeys`, the prefix kept readable. */
  #name(key: string): string {
    const keyring = this.#steps.keyring;
    if (keyring === undefined || !keyring.hashesKeys) return key;
    const prefix = key.startsWith(this.#basePrefix) ? this.#basePrefix : '';
    return `${prefix}h:${keyring.hashName(key)}`;
  }

  /** What is stored for `payload` of `key`: sealed, and its index when it must be chunked (chunks written first). */
  async #stored(key: string, payload: Payload, ttlMs: TtlMs): Promise<Payload> {
    const sealed = await this.#steps.seal(payload, key);
    const size = payloadBytes(sealed);
    if (size <= this.#itemBytes) return sealed;
    if (!this.#chunking) throw new ValueTooLargeError(key, size, this.#itemBytes, this.driver);
    if (size > this.capabilities.maxValueBytes) {
      throw new ValueTooLargeError(key, size, this.capabilities.maxValueBytes, this.driver);
    }
    // Chunks join into a frame (flags say text or bytes), whatever steps the payload went through.
    const bytes = isFramed(sealed) ? frameBytes(sealed) : framedPlain(sealed);
    const index = indexFor(bytes, this.#itemBytes);
    const pieces = split(bytes, this.#itemBytes);
    const keys = chunkKeys(this.#name(key), index);
    const chunkTtl = ttlMs === undefined ? undefined : ttlMs + CHUNK_SLACK_MS;
    const inner = this.#inner;
    for (let at = 0; at < keys.length; at += CHUNKS_PER_CALL) {
      const batch = keys.slice(at, at + CHUNKS_PER_CALL).map((name, i) => [name, pieces[at + i] as Payload] as const);
      if (inner.setMany) await inner.setMany(batch, chunkTtl);
      else await Promise.all(batch.map(([name, piece]) => inner.set(name, piece, chunkTtl)));
    }
    return writeIndex(index);
  }

  /** The payload a stored entry holds: opened, its chunks read and joined (a missing or altered chunk: `undefined`). */
  async #read(key: string, stored: Payload | undefined): Promise<Payload | undefined> {
    if (stored === undefined || !isFramed(stored)) return stored;
    let bytes = frameBytes(stored);
    let header = readHeader(bytes, key);
    if (header.flags & CHUNKS) {
      const index = readIndex(stored, key);
      if (index === undefined) return undefined;
      const joined = join(index, await this.#chunks(key, index));
      if (joined === undefined || !isFramed(joined)) return undefined;
      bytes = joined;
      header = readHeader(bytes, key);
      if (header.flags & CHUNKS) return undefined;
    }
    if (header.flags === 0) return bytes.subarray(header.offset);
    return this.#steps.open(bytes, header, key);
  }

  #chunks(key: string, index: ChunkIndex): Promise<(Payload | undefined)[]> {
    const keys = chunkKeys(this.#name(key), index);
    const inner = this.#inner;
    return inner.getMany ? inner.getMany(keys) : Promise.all(keys.map((name) => inner.get(name)));
  }

  /** The chunk index stored at `key`, when its entry is chunked. */
  async #indexAt(key: string): Promise<ChunkIndex | undefined> {
    if (!this.#chunking) return undefined;
    const stored = await this.#inner.get(this.#name(key));
    return stored === undefined ? undefined : readIndex(stored, key);
  }

  /** Deletes the chunks of `index` (kept: its TTL ends them). */
  async #dropChunks(key: string, index: ChunkIndex | undefined): Promise<void> {
    if (index === undefined) return;
    const keys = chunkKeys(this.#name(key), index);
    const inner = this.#inner;
    if (inner.deleteMany) await inner.deleteMany(keys);
    else await Promise.all(keys.map((name) => inner.delete(name)));
  }

  /** Returns the payload, or `undefined` when absent, expired, or a chunk is missing or altered. */
  async get(key: string): Promise<Payload | undefined> {
    return this.#read(key, await this.#inner.get(this.#name(key)));
  }

  /** Stores the payload (sealed; chunked above the item limit), replacing any previous value. */
  async set(key: string, payload: Payload, ttlMs: TtlMs): Promise<void> {
    await this.#inner.set(this.#name(key), await this.#stored(key, payload, ttlMs), ttlMs);
  }

  /** Deletes the entry, then its chunks when it was chunked. */
  async delete(key: string): Promise<boolean> {
    const index = await this.#indexAt(key);
    const deleted = await this.#inner.delete(this.#name(key));
    await this.#dropChunks(key, index);
    return deleted;
  }

  /** Payloads aligned with `keys`; chunked entries' chunks read in one batch each. */
  async getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    const stored = await (this.#inner as Full).getMany(keys.map((key) => this.#name(key)));
    return Promise.all(stored.map((payload, i) => this.#read(keys[i] as string, payload)));
  }

  /** Stores every entry (chunks of chunked ones first). */
  async setMany(entries: readonly (readonly [string, Payload])[], ttlMs: TtlMs): Promise<void> {
    const stored = await Promise.all(
      entries.map(async ([key, payload]) => [this.#name(key), await this.#stored(key, payload, ttlMs)] as const),
    );
    await (this.#inner as Full).setMany(stored, ttlMs);
  }

  /** Deletes the keys (and the chunks of chunked ones); returns how many existed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const indexes = this.#chunking ? await Promise.all(keys.map((key) => this.#indexAt(key))) : [];
    const count = await (this.#inner as Full).deleteMany(keys.map((key) => this.#name(key)));
    await Promise.all(indexes.map((index, i) => this.#dropChunks(keys[i] as string, index)));
    return count;
  }

  /** Stores only if absent: exact for a chunked value too (its chunks first, then an atomic add of its index). */
  async add(key: string, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    const stored = await this.#stored(key, payload, ttlMs);
    const added = await (this.#inner as Full).add(this.#name(key), stored, ttlMs);
    if (!added) await this.#dropChunks(key, readIndex(stored, key));
    return added;
  }

  /** The backend's counter; on a chunked entry `ChunkedValueError`. */
  async increment(key: string, delta: number, ttlMs: TtlMs): Promise<number> {
    try {
      return await (this.#inner as Full).increment(this.#name(key), delta, ttlMs);
    } catch (error) {
      const stored = await this.#inner.get(this.#name(key)).catch(() => undefined);
      if (stored !== undefined && readIndex(stored, key) !== undefined) throw new ChunkedValueError(key, 'increment');
      throw error;
    }
  }

  /** Returns and deletes the payload (a chunked one's chunks read, then deleted). */
  async pull(key: string): Promise<Payload | undefined> {
    const stored = await (this.#inner as Full).pull(this.#name(key));
    const index = stored === undefined ? undefined : readIndex(stored, key);
    const payload = await this.#read(key, stored);
    await this.#dropChunks(key, index);
    return payload;
  }

  /** A new expiry for the entry, and for its chunks when it is chunked. */
  async touch(key: string, ttlMs: TtlMs): Promise<boolean> {
    const touch = this.#inner.touch as NonNullable<CacheStore['touch']>;
    const index = await this.#indexAt(key);
    if (index !== undefined) {
      const chunkTtl = ttlMs === undefined ? undefined : ttlMs + CHUNK_SLACK_MS;
      await Promise.all(chunkKeys(this.#name(key), index).map((name) => touch.call(this.#inner, name, chunkTtl)));
    }
    return touch.call(this.#inner, this.#name(key), ttlMs);
  }

  /**
   * Deletes the key only if it holds `expected` (as the facade reads it): the stored bytes are read
   * and opened, then deleted only if they are still those bytes (one more round trip).
   */
  async compareAndDelete(key: string, expected: Payload): Promise<boolean> {
    const stored = await this.#inner.get(this.#name(key));
    const current = await this.#read(key, stored);
    if (stored === undefined || current === undefined || !samePayload(current, expected)) return false;
    const deleted = await (this.#inner as Full).compareAndDelete(this.#name(key), stored);
    if (deleted) await this.#dropChunks(key, readIndex(stored, key));
    return deleted;
  }

  /**
   * Stores `payload` only if the key holds `expected` (as the facade reads it): the stored bytes are
   * read and opened, then swapped only if they are still those bytes — atomic on the stored entry,
   * which for a chunked value is its index (a random suffix per write: no two indexes are equal).
   */
  async compareAndSet(key: string, expected: Payload | undefined, payload: Payload, ttlMs: TtlMs): Promise<boolean> {
    const name = this.#name(key);
    const stored = await this.#inner.get(name);
    const current = await this.#read(key, stored);
    if (expected === undefined ? current !== undefined : current === undefined || !samePayload(current, expected)) {
      return false;
    }
    const sealed = await this.#stored(key, payload, ttlMs);
    const swapped = await (this.#inner as Full).compareAndSet(name, stored, sealed, ttlMs);
    // The loser's chunks, or the replaced value's: nothing names them any more.
    const orphan = swapped ? stored : sealed;
    await this.#dropChunks(key, orphan === undefined ? undefined : readIndex(orphan, key));
    return swapped;
  }

  /** Tag counters, under their stored names. */
  tagVersions(keys: readonly string[], starts: readonly number[], ttlMs: TtlMs): Promise<number[]> {
    const inner = this.#inner.tagVersions as NonNullable<CacheStore['tagVersions']>;
    return inner.call(
      this.#inner,
      keys.map((key) => this.#name(key)),
      starts,
      ttlMs,
    );
  }

  /** Bumps tag counters, under their stored names. */
  bumpTags(keys: readonly string[], delta: number): Promise<void> {
    const inner = this.#inner.bumpTags as NonNullable<CacheStore['bumpTags']>;
    return inner.call(
      this.#inner,
      keys.map((key) => this.#name(key)),
      delta,
    );
  }

  /** Lists keys under `prefix` (chunks left out). */
  async *keys(prefix: string): AsyncIterable<string> {
    for await (const key of (this.#inner as Full).keys(prefix)) {
      if (!isChunkName(key)) yield key;
    }
  }

  /** Deletes every key under `prefix`; with hashed names only the whole cache prefix can be named. */
  async clear(prefix: string): Promise<void> {
    const clear = this.#inner.clear as NonNullable<CacheStore['clear']>;
    if (!this.#steps.keyring?.hashesKeys) return clear.call(this.#inner, prefix);
    if (prefix !== this.#basePrefix) {
      throw new UnsupportedOperationError(
        'clear of a namespace',
        this.driver,
        'key names are stored hashed (hashKeys)',
      );
    }
    return clear.call(this.#inner, prefix);
  }

  /** Rate limits under the stored name. */
  rateLimit(key: string, request: Parameters<NonNullable<CacheStore['rateLimit']>>[1]) {
    return (this.#inner as Full).rateLimit(this.#name(key), request);
  }

  /** The driver's invalidation channel (without hashed names only). */
  invalidation(...args: Parameters<NonNullable<CacheStore['invalidation']>>) {
    return (this.#inner as Full).invalidation(...args);
  }

  /** The driver's description. */
  describe() {
    return (this.#inner.describe as NonNullable<CacheStore['describe']>).call(this.#inner);
  }

  /** Closes the driver's store. */
  async close(): Promise<void> {
    await this.#inner.close?.();
  }
}

/** The wrapped store, for methods `OPTIONAL` made sure it has. */
type Full = Required<CacheStore>;

const OPTIONAL = [
  'getMany',
  'setMany',
  'deleteMany',
  'add',
  'increment',
  'pull',
  'touch',
  'compareAndDelete',
  'compareAndSet',
  'tagVersions',
  'bumpTags',
  'keys',
  'clear',
  'rateLimit',
  'invalidation',
  'describe',
] as const;

/** A payload no step changed, framed with only its text flag. */
function framedPlain(payload: Payload): Buffer {
  const text = typeof payload === 'string';
  return Buffer.concat([writeHeader(text ? TEXT : 0, 0, undefined), text ? Buffer.from(payload, 'utf8') : payload]);
}

/** Byte equality of two payloads, text or bytes. */
function samePayload(a: Payload, b: Payload): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return Buffer.from(frameBytesOf(a)).equals(frameBytesOf(b));
}

function frameBytesOf(payload: Payload): Uint8Array {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}
