import { deserialize, serialize } from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Cache } from '../src/cache/cache';
import type { Payload } from '../src/contract/store';
import { createChaosStore } from '../src/testing/chaos-store';
import type { Codec } from '../src/values/codec';
import { GRACE } from '../src/values/entry';
import { metaOf } from '../src/values/entry-format';
import { msgpackCodec } from '../src/values/msgpack-codec';

// Every codec keeps larder's metadata header (write time, expiry, the grace of a `remember` with
// `grace`, the tag section): the codec encodes the value alone.

/** A user's codec (v8 serialization, bytes; integers as decimal text, as every codec must): records what it was given and how often it decoded. */
function v8Codec() {
  const given: unknown[] = [];
  let decodes = 0;
  const codec: Codec = {
    encode(value) {
      given.push(value);
      return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : serialize(value);
    },
    decode(payload: Payload) {
      decodes++;
      return typeof payload === 'string' ? Number(payload) : deserialize(payload);
    },
  };
  return { codec, given, decodes: () => decodes };
}

const codecs = {
  msgpack: () => ({ codec: 'msgpack' as const, given: undefined }),
  custom: () => v8Codec(),
};

afterEach(() => {
  vi.useRealTimers();
});

for (const [name, make] of Object.entries(codecs)) {
  describe(`codec ${name}: entries keep larder's metadata header`, () => {
    it('a tagged entry is a miss once its tag is invalidated (hard), stale for a graced remember (soft)', async () => {
      const { codec } = make();
      const cache = new Cache({ store: createChaosStore(), prefix: 'c', codec });
      await cache.tags(['users']).set('profile', { name: 'ada' }, '1m');
      expect(await cache.get('profile')).toEqual({ name: 'ada' });
      await cache.invalidateTags(['users']);
      expect(await cache.get('profile')).toBeUndefined();
      await cache.remember('page', '1m', () => 'v1', { tags: ['pages'], grace: '1m' });
      await cache.invalidateTags(['pages'], { soft: true });
      const graced = await cache.rememberWithStatus('page', '1m', () => 'v2', { tags: ['pages'], grace: '1m' });
      expect(graced).toMatchObject({ value: 'v1', status: 'graced' });
    });

    it('a graced remember serves the stale value past its ttl; the codec sees the value alone', async () => {
      const start = new Date('2030-01-01T00:00:00Z').getTime();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(start);
      const { codec, given } = make();
      const store = createChaosStore();
      const cache = new Cache({ store, prefix: 'c', codec });
      expect(await cache.remember('k', '1m', () => ({ v: 1 }), { grace: '1h' })).toEqual({ v: 1 });
      const meta = metaOf((await store.get('c:k')) as Payload);
      expect(meta).toEqual({ writtenAt: start, expiresAt: start + 60_000 + 3_600_000, graceAt: start + 60_000 });
      vi.setSystemTime(start + 61_000);
      expect(await cache.get('k')).toBeUndefined();
      expect(await cache.has('k')).toBe(false);
      const stale = await cache.rememberWithStatus('k', '1m', () => ({ v: 2 }), { grace: '1h' });
      expect(stale).toMatchObject({ value: { v: 1 }, status: 'graced' });
      if (given !== undefined) {
        expect(given.some((value) => typeof value === 'object' && value !== null && GRACE in value)).toBe(false);
      }
    });

    it("rememberWithStatus knows a hit's age; a user value shaped like a graced entry stays the user's", async () => {
      const { codec } = make();
      const cache = new Cache({ store: createChaosStore(), prefix: 'c', codec });
      await cache.rememberWithStatus('age', '1m', () => ({ v: 1 }));
      const hit = await cache.rememberWithStatus('age', '1m', () => ({ v: 2 }));
      expect(hit.status).toBe('hit');
      expect(hit.ageMs).toBeGreaterThanOrEqual(0);
      const forged = { [GRACE]: 1, v: 'not a graced entry' };
      await cache.set('forged', forged, '1m');
      expect(await cache.get('forged')).toEqual(forged);
    });

    it('an L1 copy ends with the store entry, and counters keep working after a set', async () => {
      const store = createChaosStore();
      const writer = new Cache({ store, prefix: 'c', codec: make().codec });
      const reader = new Cache({ store, prefix: 'c', codec: make().codec, l1: { invalidation: 'none', ttl: '1h' } });
      await writer.set('k', { a: 1 }, 300);
      expect(await reader.get('k')).toEqual({ a: 1 });
      await vi.waitFor(async () => expect(await store.get('c:k')).toBeUndefined(), { timeout: 5000, interval: 5 });
      expect(await reader.get('k')).toBeUndefined();
      await writer.set('n', 41, '1m');
      expect(await writer.increment('n')).toBe(42);
      expect(await writer.get('n')).toBe(42);
      await reader.close();
    });
  });
}

describe('codec custom: the L1 keeps decoded copies', () => {
  it('hits after the first are copied out, not decoded again; each caller gets its own copy', async () => {
    const { codec, decodes } = v8Codec();
    const cache = new Cache({ store: createChaosStore(), prefix: 'c', codec, l1: { invalidation: 'none', ttl: '1h' } });
    await cache.set('k', { rows: [{ id: 1 }], at: new Date(0) }, '1m');
    // The store read, then the L1's first hit: each decodes; the second hit keeps a decoded copy.
    const first = (await cache.get('k')) as { rows: { id: number }[] };
    await cache.get('k');
    const before = decodes();
    const second = (await cache.get('k')) as { rows: { id: number }[] };
    const third = await cache.get('k');
    expect(decodes()).toBe(before);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    second.rows[0] = { id: 2 };
    expect(await cache.get('k')).toEqual(first);
    await cache.close();
  });

  it('a decoded value the copy cannot reproduce (a class instance) is decoded on every hit', async () => {
    class Point {
      constructor(readonly x: number) {}
    }
    let decodes = 0;
    const codec: Codec = {
      encode: (value) => JSON.stringify(value),
      decode: (payload) => {
        decodes++;
        const parsed = JSON.parse(String(payload));
        return typeof parsed === 'object' && parsed !== null && 'x' in parsed ? new Point(parsed.x) : parsed;
      },
    };
    const cache = new Cache({ store: createChaosStore(), prefix: 'c', codec, l1: { invalidation: 'none', ttl: '1h' } });
    await cache.set('p', new Point(3), '1m');
    for (let i = 0; i < 4; i++) expect(await cache.get('p')).toBeInstanceOf(Point);
    expect(decodes).toBe(4);
    await cache.close();
  });
});

describe('entries of these codecs written by earlier versions (no metadata header) read as before', () => {
  it('msgpack: a plain entry, a graced one (the wrapper inside the msgpack bytes) and a counter', async () => {
    const start = new Date('2030-01-01T00:00:00Z').getTime();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    const store = createChaosStore();
    const packed = msgpackCodec();
    // What the previous version stored: the codec's payload of the whole stored entry.
    await store.set('c:plain', packed.encode({ a: [1, 2] }, 'plain'), undefined);
    await store.set('c:graced', packed.encode({ [GRACE]: start + 60_000, v: 'old' }, 'graced'), 3_660_000);
    await store.set('c:n', packed.encode(7, 'n'), undefined);
    const cache = new Cache({ store, prefix: 'c', codec: 'msgpack' });
    expect(await cache.get('plain')).toEqual({ a: [1, 2] });
    expect(await cache.get('graced')).toBe('old');
    expect(await cache.increment('n')).toBe(8);
    vi.setSystemTime(start + 61_000);
    expect(await cache.get('graced')).toBeUndefined();
    expect(await cache.rememberWithStatus('graced', '1m', () => 'new', { grace: '1h' })).toMatchObject({
      value: 'old',
      status: 'graced',
    });
  });

  it('custom: the codec gets the stored payload whole, as before', async () => {
    const { codec } = v8Codec();
    const store = createChaosStore();
    await store.set('c:old', serialize({ rows: [1] }), undefined);
    const cache = new Cache({ store, prefix: 'c', codec });
    expect(await cache.get('old')).toEqual({ rows: [1] });
    expect(await cache.has('old')).toBe(true);
  });
});
