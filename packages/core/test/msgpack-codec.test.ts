import { createMemoryStore } from '@larder/memory';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../src/config/config-from-env';
import type { Payload } from '../src/contract/store';
import { Cache, MissingValueStepError, SerializationError } from '../src/index';
import { createChaosStore } from '../src/testing/chaos-store';
import { bodyOf, metaOf } from '../src/values/entry-format';
import { msgpackCodec } from '../src/values/msgpack-codec';

const PREFIX = 'mp:';

describe("codec: 'msgpack'", () => {
  it('round-trips records, Date, Set, BigInt, Buffer, typed arrays, undefined and NaN as bytes', async () => {
    const store = createMemoryStore({ useCodec: true });
    const cache = new Cache({ store, prefix: PREFIX, codec: 'msgpack' });
    const value = {
      rows: [{ id: 1, name: 'ada' }],
      at: new Date(1_700_000_000_000),
      set: new Set(['a']),
      big: 2n ** 70n,
      buf: Buffer.from([0, 1, 255]),
      f64: new Float64Array([1.5]),
      none: undefined,
      nan: Number.NaN,
    };
    await cache.set('k', value);
    const stored = (await store.get(`${PREFIX}k`)) as Uint8Array;
    // larder's metadata header, then 0xC1 and the msgpack bytes of the value.
    expect(metaOf(stored)).toBeDefined();
    expect((bodyOf(stored) as Uint8Array)[0]).toBe(0xc1);
    expect(await cache.get('k')).toEqual(value);
    expect(await cache.getMany(['k', 'missing'])).toEqual([value, undefined]);
  });

  it("rememberWithStatus: a hit's ageMs is known on a remote store (the metadata header) and on the memory store (writtenAt)", async () => {
    const remote = new Cache({ store: createChaosStore(), prefix: PREFIX, codec: 'msgpack' });
    await remote.rememberWithStatus('age', '1m', () => ({ v: 1 }));
    const remoteHit = await remote.rememberWithStatus('age', '1m', () => ({ v: 2 }));
    expect(remoteHit.status).toBe('hit');
    expect(remoteHit.ageMs).toBeGreaterThanOrEqual(0);
    const memory = new Cache({ store: createMemoryStore({ useCodec: true }), prefix: PREFIX, codec: 'msgpack' });
    await memory.rememberWithStatus('age', '1m', () => ({ v: 1 }));
    const hit = await memory.rememberWithStatus('age', '1m', () => ({ v: 2 }));
    expect(hit.status).toBe('hit');
    expect(hit.ageMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps integers as decimal text, so the backend counters work', async () => {
    const store = createMemoryStore({ useCodec: true });
    const cache = new Cache({ store, prefix: PREFIX, codec: 'msgpack' });
    await cache.set('n', 41);
    expect(bodyOf((await store.get(`${PREFIX}n`)) as Payload)).toBe('41');
    expect(await cache.increment('n')).toBe(42);
    expect(await cache.get('n')).toBe(42);
  });

  it('reads entries the JSON codec wrote (with their metadata header), and a JSON cache names the missing codec', async () => {
    const store = createMemoryStore({ useCodec: true });
    await new Cache({ store, prefix: PREFIX }).set('old', { a: [1, 2] }, '1m');
    const cache = new Cache({ store, prefix: PREFIX, codec: 'msgpack', compress: { algorithm: 'gzip', minBytes: 0 } });
    expect(await cache.get('old')).toEqual({ a: [1, 2] });
    await cache.set('new', { b: 'x'.repeat(5000) });
    expect(await cache.get('new')).toEqual({ b: 'x'.repeat(5000) });
    await new Cache({ store, prefix: PREFIX }).set('plain', 'abc');
    await cache.set('packed', { c: 1 });
    const error = await new Cache({ store, prefix: PREFIX }).get('packed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingValueStepError);
    expect(error).toMatchObject({ step: 'codec' });
  });

  it('refuses what the JSON codec refuses, with SerializationError', () => {
    const codec = msgpackCodec();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [undefined, () => 1, Symbol('s'), { f: () => 1 }, cycle]) {
      expect(() => codec.encode(bad, 'k')).toThrow(SerializationError);
    }
    expect(() => codec.decode(Buffer.from([0xc1, 0x82, 0xa1]), 'k')).toThrow(SerializationError);
  });

  it('CACHE_CODEC=msgpack configures it', () => {
    expect(configFromEnv({ CACHE_CODEC: 'msgpack' }).stores?.memory).toMatchObject({ codec: 'msgpack' });
  });
});
