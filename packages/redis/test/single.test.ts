import { BackendError, Cache, jsonCodec } from '@larder/core';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { scanPattern } from '../src/scan';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (payload: unknown) => Buffer.from(payload as Uint8Array).toString();

describe('redis store, single node', () => {
  let server: RedisServer;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('round-trips string and binary payloads byte for byte', async () => {
    await store.set('t:s', '{"a":1}', undefined);
    expect(text(await store.get('t:s'))).toBe('{"a":1}');
    const binary = jsonCodec.encode(Buffer.from([0, 1, 2, 255, 254, 0x80]), 'k') as Uint8Array;
    await store.set('t:b', binary, 10_000);
    const back = await store.get('t:b');
    expect(Buffer.compare(Buffer.from(back as Uint8Array), Buffer.from(binary))).toBe(0);
    expect(jsonCodec.decode(back!, 'k')).toEqual(Buffer.from([0, 1, 2, 255, 254, 0x80]));
    expect(await store.get('t:missing')).toBeUndefined();
  });

  it('returns exact bytes on every read path (text-first replies and binaryReplies)', async () => {
    const payloads: [string, Uint8Array | string][] = [
      ['t:bin:marker-utf8', new Uint8Array([0, 0x68, 0x69, 0xc3, 0xa9])], // 0x00 + valid UTF-8
      ['t:bin:invalid', new Uint8Array([0xff, 0xfe, 0x80, 0x41])], // not UTF-8, no marker
      ['t:bin:fffd', '"\uFFFD"'], // a real U+FFFD in text
      ['t:bin:text', '{"a":"é"}'],
    ];
    for (const [key, payload] of payloads) await store.set(key, payload, 60_000);
    const bytesOf = (p: unknown) => Buffer.from(typeof p === 'string' ? Buffer.from(p) : (p as Uint8Array));
    const binaryStore = createRedisStore({ url: server.url, binaryReplies: true });
    try {
      for (const s of [store, binaryStore]) {
        const keys = payloads.map(([key]) => key);
        const single = [];
        for (const key of keys) single.push(await s.get(key));
        const batched = await Promise.all(keys.map((key) => s.get(key)));
        const many = await s.getMany(keys);
        for (const got of [single, batched, many]) {
          expect(got.map((p) => bytesOf(p).toString('hex'))).toEqual(
            payloads.map(([, p]) => bytesOf(p).toString('hex')),
          );
        }
      }
    } finally {
      await binaryStore.close();
    }
  });

  it('sends the first get of an idle connection at once and batches the rest of the tick into one MGET', async () => {
    await store.setMany(
      Array.from({ length: 50 }, (_, i) => [`t:batch:${i}`, bytes(String(i))] as const),
      60_000,
    );
    const before = await commandCalls(server, 'mget');
    const beforeGet = await commandCalls(server, 'get');
    const values = await Promise.all(Array.from({ length: 50 }, (_, i) => store.get(`t:batch:${i}`)));
    expect(values.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect((await commandCalls(server, 'mget')) - before).toBe(1);
    // The first get of an idle connection goes out at once as a GET; the other 49 share one MGET.
    expect((await commandCalls(server, 'get')) - beforeGet).toBe(1);
  });

  it('add, increment with ttl on creation only, pull, touch, compareAndDelete', async () => {
    expect(await store.add('t:add', 'x', 10_000)).toBe(true);
    expect(await store.add('t:add', 'y', 10_000)).toBe(false);
    expect(await store.increment('t:n', 5, 50_000)).toBe(5);
    const pttl = Number(await server.command('PTTL', 't:n'));
    expect(pttl).toBeGreaterThan(40_000);
    await server.command('PEXPIRE', 't:n', 90_000);
    expect(await store.increment('t:n', -2, 1_000)).toBe(3);
    expect(Number(await server.command('PTTL', 't:n'))).toBeGreaterThan(80_000);
    expect(await store.increment('t:forever', 1, undefined)).toBe(1);
    await store.set('t:str', '"abc"', undefined);
    await expect(store.increment('t:str', 1, undefined)).rejects.toBeInstanceOf(BackendError);
    expect(text(await store.pull('t:add'))).toBe('x');
    expect(await store.pull('t:add')).toBeUndefined();
    expect(await store.touch('t:n', undefined)).toBe(true);
    expect(Number(await server.command('PTTL', 't:n'))).toBe(-1);
    expect(await store.touch('t:nope', 1000)).toBe(false);
    expect(await store.touch('t:nope', undefined)).toBe(false);
    await store.set('t:lock', 'owner-1', 10_000);
    expect(await store.compareAndDelete('t:lock', 'owner-2')).toBe(false);
    expect(await store.compareAndDelete('t:lock', bytes('owner-1'))).toBe(true);
    expect(await store.has('t:lock')).toBe(false);
  });

  it('keys and clear stay inside a prefix with glob characters', async () => {
    await store.setMany(
      [
        ['g*[x]?\\:1', 'a'],
        ['g*[x]?\\:2', 'b'],
        ['gZ[x]?\\:3', 'c'],
        ['g*other', 'd'],
      ],
      undefined,
    );
    const listed: string[] = [];
    for await (const key of store.keys('g*[x]?\\:')) listed.push(key);
    expect(listed.sort()).toEqual(['g*[x]?\\:1', 'g*[x]?\\:2']);
    await store.clear('g*[x]?\\:');
    expect(await store.getMany(['g*[x]?\\:1', 'g*[x]?\\:2', 'gZ[x]?\\:3', 'g*other'])).toEqual([
      undefined,
      undefined,
      expect.anything(),
      expect.anything(),
    ]);
    expect(scanPattern('a*b')).toBe('a\\*b*');
  });

  it('durableWrites without replicas rejects with E_NOT_DURABLE (the value is on the primary)', async () => {
    const durable = createRedisStore({ url: server.url, durableWrites: { replicas: 1, timeoutMs: 50 } });
    try {
      const error = await durable.set('t:durable', 'x', 10_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect((error as BackendError).code).toBe('E_NOT_DURABLE');
      expect(text(await store.get('t:durable'))).toBe('x');
      // A tagged write (one script) takes the same way out: rejected as not durable, written on the primary.
      const cache = new Cache({ store: durable, prefix: 't:' });
      const tagged = await cache
        .tags(['durable'])
        .set('tagged', 'y', '10s')
        .catch((e: unknown) => e);
      expect(tagged).toBeInstanceOf(BackendError);
      expect((tagged as BackendError).code).toBe('E_NOT_DURABLE');
      expect(text(await store.get('t:tagged'))).toContain('y');
    } finally {
      await durable.close();
    }
  });

  it('uses an injected client and leaves it open on close', async () => {
    const client = new Redis(server.url);
    const injected = createRedisStore({ client });
    expect(injected.mode).toBe('client');
    await injected.set('t:inj', 'v', 10_000);
    expect(text(await injected.get('t:inj'))).toBe('v');
    await injected.close();
    await expect(injected.get('t:inj')).rejects.toBeInstanceOf(BackendError);
    expect(await client.get('t:inj')).toBe('v');
    await client.quit();
  });

  it('deleteMany counts existing keys', async () => {
    await store.setMany(
      [
        ['t:d1', '1'],
        ['t:d2', '2'],
      ],
      10_000,
    );
    expect(await store.deleteMany(['t:d1', 't:d2', 't:d3'])).toBe(2);
    expect(await store.delete('t:d1')).toBe(false);
  });
});

/** Calls of one command from INFO commandstats. */
export async function commandCalls(server: { command(...args: string[]): Promise<unknown> }, name: string) {
  const info = String(await server.command('INFO', 'commandstats'));
  const match = new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info);
  return match ? Number(match[1]) : 0;
}

void waitFor;
