import { randomBytes } from 'node:crypto';
import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import type { CacheStore, Payload } from '../src/driver';
import {
  Cache,
  type CacheOptions,
  ConfigError,
  DecryptionError,
  isLarderError,
  MissingValueStepError,
  UnsupportedOperationError,
} from '../src/index';
import { HAS_ZSTD } from '../src/values/compression';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const PREFIX = 'vp:';

/** A JSON-like record of about `bytes` bytes that compresses as real JSON does. */
function record(bytes: number): Record<string, unknown> {
  const rows = [];
  for (let i = 0; rows.length * 60 < bytes; i++)
    rows.push({ id: i, name: `customer ${i}`, city: 'Lyon', active: i % 3 === 0 });
  return { rows };
}

/** A cache over `store` (shared, so caches with other settings read each other's entries). */
function over(store: CacheStore, options: Omit<CacheOptions, 'store'> = {}): Cache {
  return new Cache({ store, prefix: PREFIX, ...options });
}

const bytesOf = (payload: Payload | undefined): Buffer =>
  typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload as Uint8Array);
const framed = (payload: Payload | undefined) =>
  bytesOf(payload)
    .subarray(0, 3)
    .equals(Buffer.from([0x1e, 0x4c, 0x56]));

describe('value pipeline: compression', () => {
  for (const algorithm of ['gzip', 'brotli', ...(HAS_ZSTD ? (['zstd'] as const) : [])] as const) {
    it(`${algorithm}: a large JSON value is stored compressed, as raw bytes, and reads back`, async () => {
      const store = createMemoryStore({ useCodec: true });
      const cache = over(store, { compress: { algorithm } });
      const value = record(30_000);
      await cache.set('big', value);
      const stored = await store.get(`${PREFIX}big`);
      const plain = Buffer.byteLength(JSON.stringify(value));
      expect(framed(stored)).toBe(true);
      expect(bytesOf(stored).byteLength).toBeLessThan(plain / 3);
      expect(await cache.get('big')).toEqual(value);
    });
  }

  it('values under minBytes, or that do not shrink by minSaving, are stored exactly as without compression', async () => {
    const plainStore = createMemoryStore({ useCodec: true });
    const store = createMemoryStore({ useCodec: true });
    const cache = over(store, { compress: { algorithm: 'gzip', minBytes: 1024, minSaving: 0.1 } });
    const small = record(500);
    await cache.set('small', small, '1m');
    const stored = await store.get(`${PREFIX}small`);
    expect(framed(stored)).toBe(false);
    await over(plainStore).set('small', small, '1m');
    expect(typeof stored).toBe(typeof (await plainStore.get(`${PREFIX}small`)));
    const noise = randomBytes(50_000);
    await cache.set('noise', noise);
    expect(framed(await store.get(`${PREFIX}noise`))).toBe(false);
    expect(Buffer.compare(Buffer.from((await cache.get('noise')) as Buffer), noise)).toBe(0);
  });

  it('a cache without compression names the missing step for a compressed entry', async () => {
    const store = createMemoryStore({ useCodec: true });
    await over(store, { compress: { algorithm: 'brotli' } }).set('big', record(5000));
    const error = await over(store)
      .get('big')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingValueStepError);
    expect(error).toMatchObject({ code: 'E_VALUE_STEP_MISSING', step: 'compress' });
  });

  it('bad compress options are refused with ConfigError', () => {
    const store = createMemoryStore({ useCodec: true });
    for (const compress of [
      { algorithm: 'lz4' },
      { minBytes: -1 },
      { minBytes: 1.5 },
      { minSaving: 1 },
      { minSaving: -0.1 },
      'gzip',
      ...(HAS_ZSTD ? [] : [{ algorithm: 'zstd' }]),
    ]) {
      expect(() => over(store, { compress: compress as never })).toThrow(ConfigError);
    }
    for (const maxValueBytes of ['lots', 0, -5, '12 parsecs']) {
      expect(() => over(store, { maxValueBytes: maxValueBytes as never })).toThrow(ConfigError);
    }
    expect(() => over(store, { codec: 'yaml' as never })).toThrow(ConfigError);
  });
});

describe('value pipeline: encryption', () => {
  const keys = [{ id: 'k1', key: k1 }];

  it('stores ciphertext with the key id in the header and reads it back', async () => {
    const store = createMemoryStore({ useCodec: true });
    const cache = over(store, { encrypt: { keys } });
    await cache.set('user', { email: 'ada@example.com' });
    const stored = bytesOf(await store.get(`${PREFIX}user`));
    expect(framed(stored)).toBe(true);
    expect(stored.includes('ada@example.com')).toBe(false);
    expect(stored.includes('k1')).toBe(true);
    expect(await cache.get('user')).toEqual({ email: 'ada@example.com' });
  });

  it('a flipped byte is a DecryptionError, never garbage', async () => {
    const store = createMemoryStore({ useCodec: true });
    const cache = over(store, { encrypt: { keys } });
    await cache.set('k', 'secret');
    const stored = bytesOf(await store.get(`${PREFIX}k`));
    for (const at of [stored.length - 1, stored.length - 20, 3]) {
      const altered = Buffer.from(stored);
      altered[at] = (altered[at] as number) ^ 1;
      await store.set(`${PREFIX}k`, altered, undefined);
      const error = await cache.get('k').catch((e: unknown) => e);
      expect(isLarderError(error)).toBe(true);
      expect((error as { code: string }).code).toMatch(/E_DECRYPTION|E_VALUE_STEP_MISSING|E_SERIALIZATION/);
    }
    const tail = Buffer.from(stored);
    tail[tail.length - 1] = (tail[tail.length - 1] as number) ^ 0x80;
    await store.set(`${PREFIX}k`, tail, undefined);
    await expect(cache.get('k')).rejects.toBeInstanceOf(DecryptionError);
  });

  it('a ciphertext copied to another key does not decrypt (the key is the additional data)', async () => {
    const store = createMemoryStore({ useCodec: true });
    const cache = over(store, { encrypt: { keys } });
    await cache.set('alice', { role: 'admin' });
    await store.set(`${PREFIX}mallory`, (await store.get(`${PREFIX}alice`)) as Payload, undefined);
    await expect(cache.get('mallory')).rejects.toBeInstanceOf(DecryptionError);
  });

  it('rotation: the first key writes, every listed key reads by id; a reader lacking the id names it', async () => {
    const store = createMemoryStore({ useCodec: true });
    const before = over(store, { encrypt: { keys: [{ id: 'k1', key: k1 }] } });
    await before.set('old', 'written with k1');
    const rotated = over(store, {
      encrypt: {
        keys: [
          { id: 'k2', key: k2.toString('base64') },
          { id: 'k1', key: k1 },
        ],
      },
    });
    expect(await rotated.get('old')).toBe('written with k1');
    await rotated.set('new', 'written with k2');
    expect(bytesOf(await store.get(`${PREFIX}new`)).includes('k2')).toBe(true);
    const error = await before.get('new').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingValueStepError);
    expect(String((error as Error).message)).toContain("'k2'");
    const none = await over(store)
      .get('new')
      .catch((e: unknown) => e);
    expect(none).toMatchObject({ code: 'E_VALUE_STEP_MISSING', step: 'encrypt' });
  });

  it('plain, compressed, encrypted, chunked and earlier-format entries read back side by side in one store', async () => {
    const store = createMemoryStore({ useCodec: true, maxValueBytes: 64 * 1024 });
    await store.set(`${PREFIX}legacy`, '{"a":1}', undefined);
    await over(store).set('plain', 'p');
    await over(store, { compress: { algorithm: 'gzip', minBytes: 0 } }).set('zipped', record(4000));
    await over(store, { encrypt: { keys } }).set('sealed', [1, 2, 3]);
    const big = randomBytes(200 * 1024);
    await over(store, { maxValueBytes: '1mb' }).set('chunked', big);
    await over(store, { maxValueBytes: '1mb', encrypt: { keys } }).set('sealedChunks', big.toString('hex'));
    const chunks: string[] = [];
    for await (const name of store.keys?.(PREFIX) ?? []) if (name.includes('~c')) chunks.push(name);
    expect(chunks.length).toBeGreaterThanOrEqual(4 + 7);
    const reader = over(store, { compress: { algorithm: 'brotli' }, encrypt: { keys }, maxValueBytes: '1mb' });
    const read = await reader.getMany(['legacy', 'plain', 'zipped', 'sealed', 'chunked', 'sealedChunks']);
    expect(read.slice(0, 4)).toEqual([{ a: 1 }, 'p', record(4000), [1, 2, 3]]);
    expect(Buffer.compare(Buffer.from(read[4] as Buffer), big)).toBe(0);
    expect(read[5]).toBe(big.toString('hex'));
    expect(await reader.get('chunked')).toEqual(read[4]);
  });

  it('counters, locks, compareAndSet, tags and touch work through encryption', async () => {
    const store = createMemoryStore({ useCodec: true });
    const cache = over(store, { encrypt: { keys }, compress: { algorithm: 'gzip', minBytes: 0, minSaving: 0 } });
    await cache.set('n', 5);
    expect(await cache.increment('n', 2)).toBe(7);
    expect(await cache.increment('fresh')).toBe(1);
    const lock = cache.lock('job', '10s');
    expect(await lock.acquire()).toBe(true);
    expect(await cache.lock('job', '10s').acquire()).toBe(false);
    expect(await lock.release()).toBe(true);
    await cache.set('cas', 'a');
    expect(await cache.compareAndSet('cas', 'a', 'b')).toBe(true);
    expect(await cache.compareAndSet('cas', 'a', 'c')).toBe(false);
    expect(await cache.get('cas')).toBe('b');
    await cache.tags(['t']).set('tagged', 'v');
    expect(await cache.get('tagged')).toBe('v');
    await cache.invalidateTags(['t']);
    expect(await cache.get('tagged')).toBeUndefined();
    expect(await cache.touch('cas', '1h')).toBe(true);
    expect(await cache.get('cas')).toBe('b');
    expect(await cache.remember('r', '1m', () => ({ x: 1 }))).toEqual({ x: 1 });
    expect(await cache.pull('r')).toEqual({ x: 1 });
  });

  it('hashKeys: no plaintext key name in the store; get, delete, tags and clear of the cache still work', async () => {
    const store = createMemoryStore({ useCodec: true });
    const cache = over(store, { encrypt: { keys, hashKeys: true } });
    await cache.set('user:ada@example.com', 1);
    await cache.tags(['customer:42']).set('profile:42', { a: 1 });
    const names: string[] = [];
    for await (const name of store.keys?.('') ?? []) names.push(name);
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(names.join(' ')).not.toMatch(/ada|example|profile|customer/);
    expect(names.every((name) => name.startsWith(PREFIX))).toBe(true);
    expect(await cache.get('user:ada@example.com')).toBe(1);
    await cache.invalidateTags(['customer:42']);
    expect(await cache.get('profile:42')).toBeUndefined();
    await expect(cache.namespace('users').clear()).rejects.toBeInstanceOf(UnsupportedOperationError);
    await cache.clear();
    expect(await cache.get('user:ada@example.com')).toBeUndefined();
  });

  it('bad encryption keys are refused with ConfigError that never shows the key', () => {
    const store = createMemoryStore({ useCodec: true });
    const short = randomBytes(16);
    const cases = [
      { keys: [] },
      { keys: [{ id: 'k1', key: short }] },
      { keys: [{ id: 'k1', key: short.toString('base64') }] },
      { keys: [{ id: 'k1', key: 'not base64 at all!' }] },
      { keys: [{ id: '', key: k1 }] },
      { keys: [{ id: 'has space', key: k1 }] },
      {
        keys: [
          { id: 'k1', key: k1 },
          { id: 'k1', key: k2 },
        ],
      },
      {},
    ];
    for (const encrypt of cases) {
      let error: unknown;
      try {
        over(store, { encrypt: encrypt as never });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).not.toContain(short.toString('base64'));
      expect(String((error as Error).message)).not.toContain(k1.toString('base64'));
    }
  });
});

describe('value pipeline: values above the item limit', () => {
  const ITEM = 64 * 1024;
  const setup = (options: Omit<CacheOptions, 'store'> = {}) => {
    const store = createMemoryStore({ useCodec: true, maxValueBytes: ITEM });
    return { store, cache: over(store, { maxValueBytes: '8mb', ...options }) };
  };
  const storedNames = async (store: CacheStore): Promise<string[]> => {
    const names: string[] = [];
    for await (const name of store.keys?.(PREFIX) ?? []) names.push(name);
    return names.sort();
  };

  it('stores 1 MB of binary and of text byte-exact, in chunks under an index', async () => {
    const { store, cache } = setup();
    const bytes = randomBytes(1024 * 1024);
    await cache.set('bin', bytes, '1m');
    expect(Buffer.compare(Buffer.from((await cache.get('bin')) as Buffer), bytes)).toBe(0);
    expect((await storedNames(store)).length).toBe(1 + Math.ceil((bytes.length + 1) / ITEM));
    const text = bytes.toString('base64');
    await cache.set('text', text);
    expect(await cache.get('text')).toBe(text);
    expect(await cache.getMany(['text', 'missing'])).toEqual([text, undefined]);
    await expect(over(store).get('text')).rejects.toMatchObject({ code: 'E_VALUE_STEP_MISSING', step: 'chunk' });
  });

  it('chunks share one hash tag (one Cluster slot); an index with an unbraced suffix (earlier versions) still reads', async () => {
    const { store, cache } = setup();
    const bytes = randomBytes(200 * 1024);
    await cache.set('tagged', bytes);
    const names = await storedNames(store);
    const tags = new Set(
      names.filter((name) => name.includes('~c')).map((name) => /~c(\{.{8}\}):\d+$/.exec(name)?.[1]),
    );
    expect([...tags]).toHaveLength(1);
    expect([...tags][0]).toMatch(/^\{[A-Za-z0-9_-]{8}\}$/);
    // The same entry as an earlier version wrote it: the suffix without braces, in the index and the chunk keys.
    const tag = [...tags][0] as string;
    const index = bytesOf(await store.get(`${PREFIX}tagged`));
    const old = Buffer.concat([
      index.subarray(0, 4),
      Uint8Array.of(8),
      Buffer.from(tag.slice(1, -1)),
      index.subarray(15),
    ]);
    await store.set(`${PREFIX}old`, old, undefined);
    for (const name of names.filter((n) => n.includes('~c'))) {
      await store.set(
        name.replace(`${PREFIX}tagged~c${tag}`, `${PREFIX}old~c${tag.slice(1, -1)}`),
        (await store.get(name)) as Payload,
        undefined,
      );
    }
    expect(Buffer.compare(Buffer.from((await cache.get('old')) as Buffer), bytes)).toBe(0);
    const listed: string[] = [];
    for await (const key of cache.keys()) listed.push(key);
    expect(listed.sort()).toEqual(['old', 'tagged']);
  });

  it('a deleted or altered chunk reads as a miss, never as a corrupt value', async () => {
    const { store, cache } = setup({ encrypt: { keys: [{ id: 'k1', key: k1 }] } });
    const bytes = randomBytes(300 * 1024);
    await cache.set('a', bytes);
    await cache.set('b', bytes);
    expect(Buffer.compare(Buffer.from((await cache.get('a')) as Buffer), bytes)).toBe(0);
    const chunks = (await storedNames(store)).filter((name) => name.includes('~c'));
    const ofA = chunks.filter((name) => name.startsWith(`${PREFIX}a~`));
    await store.delete(ofA[1] as string);
    expect(await cache.get('a')).toBeUndefined();
    const ofB = chunks.filter((name) => name.startsWith(`${PREFIX}b~`));
    const chunk = Buffer.from((await store.get(ofB[2] as string)) as Uint8Array);
    chunk[100] = (chunk[100] as number) ^ 1;
    await store.set(ofB[2] as string, chunk, undefined);
    expect(await cache.get('b')).toBeUndefined();
  });

  it('delete and pull remove the chunks; an overwrite leaves the old ones to their TTL', async () => {
    const { store, cache } = setup();
    await cache.set('k', randomBytes(200 * 1024), '1m');
    await cache.delete('k');
    expect(await storedNames(store)).toEqual([]);
    await cache.set('k', randomBytes(200 * 1024), '1m');
    const value = randomBytes(150 * 1024);
    await cache.set('k', value, '1m');
    expect(Buffer.compare(Buffer.from((await cache.pull('k')) as Buffer), value)).toBe(0);
    expect((await storedNames(store)).every((name) => name.includes('~c'))).toBe(true);
  });

  it('add and compareAndSet of chunked values are atomic on the index; increment of one is ChunkedValueError', async () => {
    const { store, cache } = setup();
    const big = randomBytes(200 * 1024);
    expect(await cache.add('new', big)).toBe(true);
    expect(await cache.add('new', randomBytes(200 * 1024))).toBe(false);
    expect(Buffer.compare(Buffer.from((await cache.get('new')) as Buffer), big)).toBe(0);
    const other = randomBytes(300 * 1024);
    expect(await cache.compareAndSet('new', other, 'small')).toBe(false);
    expect(await cache.compareAndSet('new', big, other)).toBe(true);
    expect(Buffer.compare(Buffer.from((await cache.get('new')) as Buffer), other)).toBe(0);
    // The losing add's chunks and the replaced value's were dropped: only the live value's remain.
    expect((await storedNames(store)).length).toBe(1 + Math.ceil((other.length + 1) / ITEM));
    await expect(cache.increment('new')).rejects.toMatchObject({ code: 'E_CHUNKED_VALUE', operation: 'increment' });
    expect(Buffer.compare(Buffer.from((await cache.get('new')) as Buffer), other)).toBe(0);
    const text = big.toString('base64');
    await cache.set('text', text, '1m');
    expect(await cache.touch('text', '1h')).toBe(true);
    expect(await cache.get('text')).toBe(text);
    expect(await cache.remember('page', '1m', () => ({ html: text }))).toEqual({ html: text });
    expect(await cache.remember('page', '1m', () => ({ html: 'other' }))).toEqual({ html: text });
  });

  it('values over the ceiling, or over the item limit without a ceiling, are ValueTooLargeError', async () => {
    const { cache } = setup({ maxValueBytes: '1mb' });
    await expect(cache.set('k', randomBytes(2 * 1024 * 1024))).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' });
    const store = createMemoryStore({ useCodec: true, maxValueBytes: ITEM });
    const encrypted = over(store, { encrypt: { keys: [{ id: 'k1', key: k1 }] } });
    await expect(encrypted.set('k', randomBytes(ITEM - 8))).rejects.toMatchObject({ code: 'E_VALUE_TOO_LARGE' });
  });

  it('concurrent writers of one chunked key: every read is one whole value or a miss', async () => {
    const { cache } = setup();
    const values = Array.from({ length: 20 }, (_, i) => Buffer.alloc(150 * 1024, i));
    const reads: Promise<unknown>[] = [];
    const writes = values.map((value) => cache.set('hot', value, '1m'));
    for (let i = 0; i < 200; i++) reads.push(cache.get('hot'));
    await Promise.all(writes);
    for (const read of await Promise.all(reads)) {
      if (read === undefined) continue;
      const bytes = read as Buffer;
      expect(bytes.length).toBe(150 * 1024);
      expect(bytes.every((b) => b === bytes[0])).toBe(true);
    }
  });
});
