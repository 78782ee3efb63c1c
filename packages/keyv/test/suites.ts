import { Buffer } from 'node:buffer';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { type Cache, type Codec, UnsupportedOperationError } from '@larder/core';
import { waitFor } from '@larder/dev-services';
import { Keyv } from 'keyv';
import { Keyv as Keyv6 } from 'keyv6';
import * as vitest from 'vitest';
import { createKeyv, KeyvLarder } from '../src/index';
import { type Backend, uniquePrefix } from './backends';

const { describe, it, expect, beforeAll } = vitest;

/** A value with every type larder's codec must give back exactly. */
export function richValue() {
  return {
    date: new Date('2026-11-23T10:00:00.123Z'),
    map: new Map<unknown, unknown>([
      ['a', 1],
      [2, { b: [3n] }],
    ]),
    set: new Set(['x', 'y']),
    big: 9_223_372_036_854_775_807n,
    buffer: Buffer.from([0, 1, 2, 255]),
    nested: { list: [new Date(0), null, 'text', 1.5] },
  };
}

/** A codec other than larder's JSON one (JSON text, no types kept): a cache that cannot tag entries. */
const textCodec: Codec = {
  encode: (value) => JSON.stringify(value),
  decode: (payload) => JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8')),
};

/** A Keyv whose `iterator()` is there (Keyv 5 types it as optional). */
type Iterable = { iterator(): AsyncIterable<[unknown, unknown]> };

const versions = [
  { label: 'Keyv 5', keyv: Keyv },
  { label: 'Keyv 6', keyv: Keyv6 },
] as const;

/**
 * The Keyv tests every backend runs: `@keyv/test-suite` (written for Keyv 5) against
 * `KeyvLarder`, and `createKeyv` on Keyv 5 and Keyv 6 (codec, batches, namespaces, clear).
 * The caller starts and stops the backend.
 */
export function keyvSuites(backend: Backend): void {
  describe(`@keyv/test-suite against KeyvLarder: ${backend.name}`, () => {
    let cache: Cache;
    beforeAll(() => {
      cache = backend.cache(uniquePrefix('suite'));
    });
    keyvTestSuite(vitest, Keyv, () => new KeyvLarder(cache));
  });

  // Not part of keyvTestSuite: its four iterator tests. Keyv 5 exposes `keyv.iterator` only for
  // the adapter dialects it lists (see KeyvLarder's `opts`); Keyv 6 takes the adapter as it is
  // (contract 6, as createKeyv makes it) or through its bridge (contract 5, the default).
  const iteratorRuns = [
    { label: 'Keyv 5', keyv: Keyv, contract: 5 },
    { label: 'Keyv 6, contract 6', keyv: Keyv6, contract: 6 },
    { label: 'Keyv 6, contract 5', keyv: Keyv6, contract: 5 },
  ] as const;
  for (const { label, keyv: KeyvOf, contract } of iteratorRuns) {
    describe(`@keyv/test-suite iterator tests against KeyvLarder on ${label}: ${backend.name}`, () => {
      let cache: Cache;
      beforeAll(() => {
        cache = backend.cache(uniquePrefix(`iter${contract}`));
      });
      const adapter = () => new KeyvLarder(cache, { contract });
      if (backend.clearsByPrefix) {
        keyvIteratorTests(vitest, KeyvOf as typeof Keyv, adapter);
      } else {
        // memcached lists no keys, DynamoDB without allowClear does not Scan: nothing to iterate over.
        it('keyv.iterator() is there and rejects with UnsupportedOperationError (the store lists no keys)', async () => {
          const keyv = new (KeyvOf as typeof Keyv)({ store: adapter() });
          await keyv.set('k', 'v');
          expect(typeof keyv.iterator).toBe('function');
          const iterator = (keyv.iterator as () => AsyncGenerator<unknown>)();
          await expect(iterator.next()).rejects.toThrow(UnsupportedOperationError);
        });
      }
    });
  }

  for (const { label, keyv: KeyvOf } of versions) {
    describe(`createKeyv on ${label}: ${backend.name}`, () => {
      let cache: Cache;
      beforeAll(() => {
        cache = backend.cache(uniquePrefix(label.replace(' ', '')));
      });

      it('round-trips Date, Map, Set, BigInt and Buffer exactly, encoded once by the codec', async () => {
        const keyv = createKeyv(cache, { keyv: KeyvOf });
        const value = richValue();
        await keyv.set('rich', value, 60_000);
        const back = await keyv.get('rich');
        expect(back).toEqual(value);
        expect(back.buffer).toBeInstanceOf(Buffer);
        expect(back.map).toBeInstanceOf(Map);
        if (backend.clearsByPrefix) {
          // Stored once, under larder's prefix + the namespace: an envelope, not a JSON string in one.
          const stored = await cache.namespace('keyv').get<{ value: unknown; expires: number }>('rich');
          expect(stored?.value).toEqual(value);
          expect(stored?.expires).toBeGreaterThan(Date.now());
        }
      });

      it('getMany, setMany, hasMany and deleteMany', async () => {
        const keyv = createKeyv(cache, { keyv: KeyvOf, namespace: 'batch' });
        await keyv.setMany([
          { key: 'a', value: 1 },
          { key: 'b', value: new Date(5), ttl: 60_000 },
        ]);
        expect(await keyv.getMany(['a', 'b', 'c'])).toEqual([1, new Date(5), undefined]);
        expect(await keyv.hasMany(['a', 'c'])).toEqual([true, false]);
        const deleted = await keyv.deleteMany(['a', 'c']);
        // Keyv 5: one boolean, true only if every key existed; Keyv 6: one per key.
        expect(deleted).toEqual(KeyvOf === Keyv ? false : [true, false]);
        expect(await keyv.get('a')).toBeUndefined();
        expect(await keyv.get('b')).toEqual(new Date(5));
      });

      it('a write with a TTL reports its absolute expiry and is gone after it', async () => {
        const keyv = createKeyv(cache, { keyv: KeyvOf, namespace: 'ttl' });
        // memcached may expire an item up to 2 s before its TTL (its clock ticks once a second):
        // the TTL spans that, so the read right after the write still finds it.
        const ttl = 1000 + (backend.earlyExpiryMs ?? 0);
        const before = Date.now();
        await keyv.set('short', 'v', ttl);
        const raw = await keyv.getRaw('short');
        expect(raw?.expires).toBeGreaterThanOrEqual(before + ttl);
        expect(raw?.expires).toBeLessThanOrEqual(Date.now() + ttl);
        // The entry itself expires on the backend too (memcached: whole seconds, rounded up).
        await waitFor(async () => (await keyv.get('short')) === undefined, { timeoutMs: 5000 + ttl, intervalMs: 100 });
      });

      it('clear() removes its own namespace only', async () => {
        const one = createKeyv(cache, { keyv: KeyvOf, namespace: 'one' });
        const two = createKeyv(cache, { keyv: KeyvOf, namespace: 'two' });
        await cache.set('outside', 'kept');
        await one.set('k', 1);
        await two.set('k', 2);
        await one.clear();
        expect(await one.get('k')).toBeUndefined();
        expect(await two.get('k')).toBe(2);
        expect(await cache.get('outside')).toBe('kept');
        await one.set('k', 3);
        expect(await one.get('k')).toBe(3);
      });

      it("another instance's clear() is seen once it resolves (a larder scope dropped), outside namespaces untouched", async () => {
        const writer = createKeyv(cache, { keyv: KeyvOf, namespace: 'gen' });
        const reader = createKeyv(cache, { keyv: KeyvOf, namespace: 'gen' });
        const other = createKeyv(cache, { keyv: KeyvOf, namespace: 'gen2' });
        await writer.set('k', 'v');
        await other.set('k', 'kept');
        expect(await reader.get('k')).toBe('v');
        await writer.clear();
        expect(await reader.get('k')).toBeUndefined();
        expect(await other.get('k')).toBe('kept');
        await reader.set('k', 'after');
        expect(await writer.get('k')).toBe('after');
      });

      it("a cache with another codec than JSON (its entries carry tags too): another instance's clear() is seen", async () => {
        const prefix = uniquePrefix('codec');
        const plain = () => backend.cache(prefix, { codec: textCodec });
        const writer = createKeyv(plain(), { keyv: KeyvOf, namespace: 'gen' });
        const reader = createKeyv(plain(), { keyv: KeyvOf, namespace: 'gen' });
        await writer.set('k', 'v');
        expect(await reader.get('k')).toBe('v');
        await writer.clear();
        await waitFor(async () => (await reader.get('k')) === undefined, { timeoutMs: 2000, intervalMs: 20 });
      });

      if (backend.clearsByPrefix) {
        it('iterator() yields the live entries of its namespace', async () => {
          const keyv = createKeyv(cache, { keyv: KeyvOf, namespace: 'iter' });
          const other = createKeyv(cache, { keyv: KeyvOf, namespace: 'iter2' });
          await keyv.set('x', 1);
          await keyv.set('y', new Set([2]));
          await other.set('z', 3);
          const seen = new Map<unknown, unknown>();
          for await (const [key, value] of (keyv as unknown as Iterable).iterator()) seen.set(key, value);
          expect(seen).toEqual(
            new Map<unknown, unknown>([
              ['x', 1],
              ['y', new Set([2])],
            ]),
          );
        });
      }
    });
  }
}
