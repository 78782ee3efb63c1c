import { BackendError, ConfigError, jsonCodec, ValueTooLargeError } from '@larder/core';
import { waitFor } from '@larder/test-suite';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, larderDriver, MemoryStore } from '../src/index';

describe('MemoryStore', () => {
  it('declares its capabilities', () => {
    const store = createMemoryStore();
    expect(store.driver).toBe('memory');
    expect(store.capabilities).toMatchObject({
      atomicAdd: true,
      ttlPrecisionMs: 1,
      inProcess: true,
      rawValues: true,
      maxKeyBytes: 65_536,
      maxValueBytes: 8 * 1024 * 1024,
    });
    expect(createMemoryStore({ clone: false }).capabilities.rawValues).toBe(true);
    expect(createMemoryStore({ useCodec: true }).capabilities.rawValues).toBe(false);
    expect(createMemoryStore({ codec: jsonCodec }).options.mode).toBe('codec');
    expect(createMemoryStore().options.mode).toBe('clone');
    expect(createMemoryStore({ clone: false }).options.mode).toBe('reference');
    expect(createMemoryStore({ maxValueBytes: 100 }).capabilities.maxValueBytes).toBe(100);
  });

  it('gets, sets, deletes and batches', async () => {
    const store = createMemoryStore();
    expect(await store.get('a')).toBeUndefined();
    await store.set('a', '1', undefined);
    expect(await store.get('a')).toBe('1');
    await store.setMany(
      [
        ['b', '2'],
        ['c', '3'],
      ],
      undefined,
    );
    expect(await store.getMany(['a', 'x', 'c'])).toEqual(['1', undefined, '3']);
    expect(await store.deleteMany(['a', 'b', 'x'])).toBe(2);
    expect(await store.delete('c')).toBe(true);
    expect(await store.delete('c')).toBe(false);
  });

  it('has synchronous get and set for the facade fast path', async () => {
    const store = createMemoryStore();
    store.setSync('s', { a: 1 } as never, undefined);
    expect(store.getSync('s')).toEqual({ a: 1 });
    expect(await store.get('s')).toEqual({ a: 1 });
    expect(store.getSync('missing')).toBeUndefined();
    const small = createMemoryStore({ maxValueBytes: 5, maxBytes: 100 });
    expect(() => small.setSync('big', 'x'.repeat(10) as never, undefined)).toThrow(ValueTooLargeError);
  });

  it('reads the value it keeps without copying it (getSyncShared), as getSync finds it otherwise', async () => {
    const store = createMemoryStore();
    const value = { a: { b: 1 }, body: Buffer.from('bytes') };
    store.setSync('s', value as never, undefined);
    const shared = store.getSyncShared('s') as unknown as typeof value;
    // The store's own copy, the same object at every read; getSync hands out a new copy each time.
    expect(shared).toEqual(value);
    expect(shared).not.toBe(value);
    expect(store.getSyncShared('s')).toBe(shared);
    const copy = store.getSync('s') as unknown as typeof value;
    expect(copy).toEqual(value);
    expect(copy).not.toBe(shared);
    expect(copy.body).not.toBe(shared.body);
    expect(store.getSyncShared('missing')).toBeUndefined();
    // An expired entry is gone for it too.
    await store.set('short', 'v', 20);
    await waitFor(() => store.getSyncShared('short') === undefined);
    expect(store.getSync('short')).toBeUndefined();
  });

  // A Buffer's own `slice` is a view, not a copy (it was one here until 2026-11-28).
  it.each([
    ['Uint8Array', (bytes: number[]) => new Uint8Array(bytes)],
    ['Buffer', (bytes: number[]) => Buffer.from(bytes)],
  ])('copies %s payloads in and out', async (_name, make) => {
    const store = createMemoryStore({ useCodec: true });
    const bytes = make([0, 1, 2, 3]);
    await store.set('bin', bytes, undefined);
    bytes[1] = 99;
    const out = (await store.get('bin')) as Uint8Array;
    expect([...out]).toEqual([0, 1, 2, 3]);
    expect(Buffer.isBuffer(out)).toBe(Buffer.isBuffer(bytes));
    out[2] = 99;
    expect([...((await store.get('bin')) as Uint8Array)]).toEqual([0, 1, 2, 3]);
  });

  // Node's `Buffer.from` takes a copy under 4 KB from a shared 8 KB slab; a kept copy held it all.
  it.each([
    ['clone', {}, (body: Buffer) => ({ body }), (kept: unknown) => (kept as { body: Buffer }).body],
    ['useCodec', { useCodec: true }, (body: Buffer) => body, (kept: unknown) => kept as Buffer],
  ] as const)(
    'keeps bytes in memory of their own, not a slice of a larger buffer (%s mode)',
    (_mode, options, wrap, bytesOf) => {
      const store = createMemoryStore(options);
      const chunk = Buffer.alloc(65_536, 5);
      const body = chunk.subarray(100, 2_100);
      store.setSync('k', wrap(body) as never, undefined);
      const kept = bytesOf(store.getSyncShared('k'));
      expect(kept.equals(body)).toBe(true);
      expect(kept.byteOffset).toBe(0);
      expect(kept.buffer.byteLength).toBe(2_000);
      // A small Buffer of Node's pool is copied out of it too.
      const pooled = Buffer.from('p'.repeat(300));
      expect(pooled.buffer.byteLength).toBeGreaterThan(300);
      store.setSync('small', wrap(pooled) as never, undefined);
      expect(bytesOf(store.getSyncShared('small')).buffer.byteLength).toBe(300);
    },
  );

  it('isolates values from mutation through the codec with useCodec', async () => {
    const store = createMemoryStore({ useCodec: true });
    const user = { name: 'ada', tags: ['x'] };
    await store.set('u', jsonCodec.encode(user, 'u'), undefined);
    user.tags.push('mutated');
    const read = jsonCodec.decode((await store.get('u'))!, 'u') as typeof user;
    expect(read).toEqual({ name: 'ada', tags: ['x'] });
  });

  it('expires entries at millisecond precision, checked on read', async () => {
    const store = createMemoryStore();
    // 250 ms, not 30: a loaded CI machine stalled past 30 ms between the set and the first get.
    const start = Date.now();
    await store.set('t', 'v', 250);
    await store.set('forever', 'v', undefined);
    expect(await store.get('t')).toBe('v');
    await waitFor(async () => (await store.get('t')) === undefined);
    // Gone within the second: a TTL rounded to whole seconds would keep it for 1,000 ms at least.
    expect(Date.now() - start).toBeLessThan(900);
    expect(await store.has('t')).toBe(false);
    expect(await store.delete('t')).toBe(false);
    expect(await store.get('forever')).toBe('v');
  });

  it('add is set-if-absent and treats expired keys as absent', async () => {
    const store = createMemoryStore();
    // TTLs are generous where a stalled (loaded) machine must not expire the key mid-test.
    expect(await store.add('k', 'a', 200)).toBe(true);
    expect(await store.add('k', 'b', 200)).toBe(false);
    expect(await store.get('k')).toBe('a');
    await waitFor(() => store.add('k', 'c', undefined));
    expect(await store.get('k')).toBe('c');
  });

  it('increments plain decimal payloads and keeps the expiry of existing counters', async () => {
    const store = createMemoryStore({ useCodec: true });
    expect(await store.increment('n', 5, 200)).toBe(5);
    expect(await store.increment('n', -2, undefined)).toBe(3);
    expect(await store.get('n')).toBe('3');
    await waitFor(async () => (await store.get('n')) === undefined);
    await store.set('s', jsonCodec.encode('abc', 's'), undefined);
    await expect(store.increment('s', 1, undefined)).rejects.toBeInstanceOf(BackendError);
    await store.set('big', String(Number.MAX_SAFE_INTEGER), undefined);
    await expect(store.increment('big', 1, undefined)).rejects.toBeInstanceOf(BackendError);
    await store.set('bytes', Buffer.from('41'), undefined);
    expect(await store.increment('bytes', 1, undefined)).toBe(42);
  });

  it('copies values in and out by default, with the JSON codec round-trip result', async () => {
    const store = createMemoryStore();
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    const value = {
      name: 'ada',
      tags: ['x', undefined, Number.NaN],
      skipped: undefined,
      when: new Date(5),
      map: new Map([['k', { deep: 1 }]]),
      set: new Set([1, 2]),
      bytes: Buffer.from([1, 2]),
      point: new Point(1, 2),
      big: 10n,
    };
    await store.set('v', value as never, undefined);
    value.tags.push('mutated');
    value.when.setTime(99);
    value.map.get('k')!.deep = 2;
    value.bytes[0] = 9;
    const read = (await store.get('v')) as unknown as typeof value;
    const expected = jsonCodec.decode(
      jsonCodec.encode(
        {
          ...value,
          tags: ['x', undefined, Number.NaN],
          when: new Date(5),
          map: new Map([['k', { deep: 1 }]]),
          bytes: Buffer.from([1, 2]),
        },
        'v',
      ),
      'v',
    );
    expect(read).toEqual(expected);
    expect(read.point).not.toBeInstanceOf(Point);
    // The codec keeps nested undefined and NaN exactly (it used to drop them / turn them into null).
    expect('skipped' in read).toBe(true);
    read.tags.push('reader');
    read.map.get('k')!.deep = 3;
    const again = (await store.get('v')) as unknown as typeof value;
    expect(again.tags).toEqual(['x', undefined, Number.NaN]);
    expect(again.map.get('k')).toEqual({ deep: 1 });
    expect(again).not.toBe(read);
  });

  it('copies deeply nested arrays and objects on every read', async () => {
    const store = createMemoryStore();
    const value = { items: [{ a: 1 }, { b: [1, { c: 2 }] }, 'x'], when: [new Date(1)], set: new Set([{ d: 1 }]) };
    await store.set('n', value as never, undefined);
    const first = (await store.get('n')) as unknown as typeof value;
    expect(first).toEqual(value);
    (first.items[0] as { a: number }).a = 9;
    ((first.items[1] as { b: unknown[] }).b[1] as { c: number }).c = 9;
    first.when[0]!.setTime(9);
    [...first.set][0]!.d = 9;
    expect(await store.get('n')).toEqual(value);
  });

  it('keeps "__proto__" keys as own data, like JSON.parse', async () => {
    const store = createMemoryStore();
    const value = JSON.parse('{"__proto__": {"polluted": true}}');
    await store.set('p', value, undefined);
    const read = (await store.get('p')) as unknown as Record<string, unknown>;
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype);
    expect(Object.keys(read)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses uncoded values over maxValueBytes and counts their size', async () => {
    const store = createMemoryStore({ maxValueBytes: 100, maxBytes: 1000 });
    await expect(store.set('big', 'x'.repeat(101) as never, undefined)).rejects.toBeInstanceOf(ValueTooLargeError);
    await expect(store.set('big', { a: 'x'.repeat(95) } as never, undefined)).rejects.toBeInstanceOf(
      ValueTooLargeError,
    );
    await expect(
      store.setMany(
        [
          ['ok', 'small'],
          ['big', 'x'.repeat(200)],
        ],
        undefined,
      ),
    ).rejects.toBeInstanceOf(ValueTooLargeError);
    expect(await store.has('ok')).toBe(false);
    // As JSON: {"a":"xx...x"} = 2 + (1 + 4) + (50 + 2) bytes.
    await store.set('fits', { a: 'x'.repeat(50) } as never, undefined);
    expect(store.calculatedSize).toBe('fits'.length + 59);
    await store.touch('fits', 1000);
    expect(store.calculatedSize).toBe('fits'.length + 59);
    await store.set('at-limit', 'y'.repeat(98) as never, undefined);
    await store.set('bytes-at-limit', Buffer.alloc(99) as never, undefined);
    await expect(store.set('over', Buffer.alloc(100) as never, undefined)).rejects.toBeInstanceOf(ValueTooLargeError);
    const reference = createMemoryStore({ clone: false, maxValueBytes: 10, maxBytes: 1000 });
    await expect(reference.set('s', 'x'.repeat(11), undefined)).rejects.toBeInstanceOf(ValueTooLargeError);
  });

  it('stores numbers as numbers for counters in raw mode', async () => {
    const store = createMemoryStore({ clone: false });
    expect(await store.increment('n', 2, undefined)).toBe(2);
    expect(await store.increment('n', 2, undefined)).toBe(4);
    expect(await store.get('n')).toBe(4);
  });

  it('stores references in raw mode', async () => {
    const store = createMemoryStore({ clone: false });
    const value = { a: 1 };
    await store.set('r', value as never, undefined);
    expect(await store.get('r')).toBe(value);
  });

  it('pulls, touches and compare-and-deletes', async () => {
    const store = createMemoryStore();
    await store.set('p', 'v', undefined);
    expect(await store.pull('p')).toBe('v');
    expect(await store.pull('p')).toBeUndefined();

    await store.set('t', 'v', 200);
    await store.set('sibling', 'v', 200);
    expect(await store.touch('t', undefined)).toBe(true);
    await waitFor(async () => !(await store.has('sibling')));
    expect(await store.get('t')).toBe('v');
    expect(await store.touch('missing', 10)).toBe(false);

    await store.set('lock', 'owner-1', undefined);
    expect(await store.compareAndDelete('lock', 'owner-2')).toBe(false);
    expect(await store.compareAndDelete('lock', Buffer.from('owner-1'))).toBe(true);
    expect(await store.has('lock')).toBe(false);
  });

  it('lists and clears only keys under a prefix', async () => {
    const store = createMemoryStore();
    await store.setMany(
      [
        ['app1:a', '1'],
        ['app1:b', '2'],
        ['app2:a', '3'],
      ],
      undefined,
    );
    await store.set('app1:gone', 'x', 1);
    await waitFor(async () => !(await store.has('app1:gone')));
    const keys: string[] = [];
    for await (const key of store.keys('app1:')) keys.push(key);
    expect(keys.sort()).toEqual(['app1:a', 'app1:b']);
    await store.clear('app1:');
    expect(await store.getMany(['app1:a', 'app1:b', 'app2:a'])).toEqual([undefined, undefined, '3']);
  });

  it('evicts the least recently used entries by count and by bytes', async () => {
    const byCount = createMemoryStore({ maxEntries: 2 });
    await byCount.set('a', '1', undefined);
    await byCount.set('b', '2', undefined);
    await byCount.get('a');
    await byCount.set('c', '3', undefined);
    expect(await byCount.getMany(['a', 'b', 'c'])).toEqual(['1', undefined, '3']);

    const byBytes = createMemoryStore({ maxBytes: 100, maxValueBytes: 50 });
    for (let i = 0; i < 10; i++) await byBytes.set(`k${i}`, 'x'.repeat(30), undefined);
    expect(byBytes.calculatedSize).toBeLessThanOrEqual(100);
    expect(byBytes.size).toBe(2); // 2 + 30 + 2 (quotes) bytes each
    expect(await byBytes.get('k9')).toBe('x'.repeat(30));
  });

  it('keeps recency approximately: a read of an entry in the older half moves it, one in the recent half stays', async () => {
    const store = createMemoryStore({ maxEntries: 100 });
    for (let i = 0; i < 100; i++) await store.set(`k${i}`, String(i), undefined);
    // k0 is the oldest: reading it moves it to the recent end, so the next insertions evict k1.., not k0.
    await store.get('k0');
    for (let i = 100; i < 150; i++) await store.set(`k${i}`, String(i), undefined);
    expect(await store.get('k0')).toBe('0');
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k50')).toBeUndefined();
    // Oldest first now: k51..k149, then k0 (the read above moved it again). k120 is in the recent
    // half: reading it leaves it in place, so 71 insertions (49 + 22) evict it with k100..k121.
    await store.get('k120');
    for (let i = 150; i < 221; i++) await store.set(`k${i}`, String(i), undefined);
    expect(await store.get('k120')).toBeUndefined();
    expect(await store.get('k122')).toBe('122');
    expect(await store.get('k0')).toBe('0');
    expect(store.size).toBe(100);
  });

  it('validates its options', () => {
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow(ConfigError);
    expect(() => createMemoryStore({ maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => createMemoryStore({ maxBytes: 10, maxValueBytes: 20 })).toThrow(/maxValueBytes/);
    expect(() => createMemoryStore({ clone: 'yes' as never })).toThrow(/clone/);
    expect(() => createMemoryStore({ useCodec: 1 as never })).toThrow(/useCodec/);
  });

  it('exports a driver factory for the manager', async () => {
    const store = await larderDriver(
      { driver: 'memory', maxEntries: 5, prefix: 'ignored:' },
      { storeName: 'x', env: {} },
    );
    expect(store).toBeInstanceOf(MemoryStore);
    expect((store as MemoryStore).options.maxEntries).toBe(5);
  });
});

describe('MemoryStore.describe()', () => {
  it('is in-process with no nodes', () => {
    expect(new MemoryStore().describe()).toEqual({ driver: 'memory', topology: { mode: 'in-process', nodes: [] } });
  });
});
