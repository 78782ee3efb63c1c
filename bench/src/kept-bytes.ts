/**
 * `pnpm bench kept-bytes` (main.ts hands it here): the memory that bytes kept by larder hold, per
 * entry, against what the store or the L1 counts for them. The memory store's copies of Buffer
 * values (clone and useCodec modes, 200 B and 2 KB), and the copy alone both ways: the exact copy
 * now, `Buffer.from` (a slice of Node's shared 8 KB pool) as the store made it until 2026-11-28.
 * The L1 over a real redis-server reading 2 KB msgpack entries alone and beside a 30 KB read on the
 * same connection (as an app's mixed reads arrive), and the ioredis replies kept as handed, as the
 * L1 kept them until then. Measured: `process.memoryUsage().arrayBuffers` once full collections
 * free nothing more, and CPU per write. Not a timed test: figures vary with the machine.
 */

import { gunzipSync, gzipSync } from 'node:zlib';
import { Cache } from '@larder/core';
import { ownedBytes } from '@larder/core/driver';
import { startRedis } from '@larder/dev-services';
import { createMemoryStore } from '@larder/memory';
import { createRedisStore } from '@larder/redis';
import { Redis } from 'ioredis';
import { machineInfo } from './harness';

const gc = (globalThis as { gc?: () => void }).gc;

/** ArrayBuffer bytes per item that `fill` keeps alive, each side read once the collections settle. */
async function keptPerItem(items: number, fill: () => Promise<void> | void): Promise<number> {
  const before = await settledArrayBuffers();
  await fill();
  return ((await settledArrayBuffers()) - before) / items;
}

/** `arrayBuffers` once a full collection frees nothing more (backing stores are freed after the collection, off the main thread). */
async function settledArrayBuffers(): Promise<number> {
  let last = Number.NaN;
  for (let i = 0; i < 50; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
    const now = process.memoryUsage().arrayBuffers;
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** µs of process CPU per call of `write(i)`, the best of 3 runs of `calls`. */
function cpuPerCall(calls: number, write: (i: number) => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 3; run++) {
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) write(i);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / calls);
  }
  return best;
}

/** The memory store's rows: Buffer values of `size` bytes, the app allocating other small Buffers between two writes (its requests', its sockets'). */
async function memoryRows(size: number): Promise<string[]> {
  const items = 20_000;
  const bodies = Array.from({ length: 64 }, (_, i) => Buffer.alloc(size, i));
  const traffic = () => Buffer.from('t'.repeat(3_000));
  const rows: string[] = [];
  for (const mode of ['clone', 'useCodec'] as const) {
    const store = createMemoryStore({ maxEntries: items, ...(mode === 'useCodec' ? { useCodec: true } : {}) });
    // clone mode copies an object's nested bytes; useCodec keeps a payload, bytes at the top.
    const value = (i: number) => (mode === 'clone' ? { id: i, body: bodies[i & 63] } : bodies[i & 63]) as never;
    const cpu = cpuPerCall(200_000, (i) => store.setSync(`k${i % items}`, value(i), undefined));
    await store.clear('');
    const held = await keptPerItem(items, () => {
      for (let i = 0; i < items; i++) {
        store.setSync(`k${i}`, value(i), undefined);
        traffic();
      }
    });
    rows.push(
      `| memory store (${mode}) | ${size} B | ${held.toFixed(0)} | ${storeBytes(store, items).toFixed(0)} | ${cpu.toFixed(2)} |`,
    );
  }
  // The copy alone, each way: the exact copy now, and what the store kept before 2026-11-28.
  for (const [label, copy] of [
    ['the copy alone, now: `ownedBytes` (memory of its own)', ownedBytes],
    ["the copy alone, before: `Buffer.from` (the store's copy until 2026-11-28)", (b: Uint8Array) => Buffer.from(b)],
  ] as const) {
    const kept: Uint8Array[] = new Array(items);
    const cpu = cpuPerCall(200_000, (i) => {
      kept[i % items] = copy(bodies[i & 63] as Buffer);
    });
    kept.fill(new Uint8Array(0));
    const held = await keptPerItem(items, () => {
      for (let i = 0; i < items; i++) {
        kept[i] = copy(bodies[i & 63] as Buffer);
        traffic();
      }
    });
    rows.push(`| ${label} | ${size} B | ${held.toFixed(0)} | — | ${cpu.toFixed(2)} |`);
  }
  return rows;
}

/** The L1's rows: 2 KB msgpack entries read through a tiered cache, alone or beside a 30 KB read. */
async function l1Rows(url: string): Promise<string[]> {
  const items = 5_000;
  const writer = new Cache({ store: createRedisStore({ url }), prefix: 'kept:', codec: 'msgpack' });
  for (let i = 0; i < items; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) => writer.set(`k${i + j}`, { id: i + j, text: 'x'.repeat(2_000) })),
    );
  }
  await writer.set('big', { text: 'y'.repeat(30_000) });
  await writer.close();
  const rows: string[] = [];
  for (const beside of [false, true]) {
    const store = createRedisStore({ url });
    const l1 = new Cache({ store, prefix: 'kept:', codec: 'msgpack', l1: { maxEntries: items * 2, maxBytes: '1gb' } });
    // Another cache on the same store (one connection), without an L1: its replies share read chunks.
    const plain = new Cache({ store, prefix: 'kept:', codec: 'msgpack' });
    await l1.get('warm');
    const held = await keptPerItem(items, async () => {
      for (let i = 0; i < items; i++) await Promise.all([l1.get(`k${i}`), beside ? plain.get('big') : undefined]);
    });
    const counted = ((await l1.describeL1())?.bytes ?? 0) / items;
    const what = beside ? 'each read beside a 30 KB read on its connection' : 'reads alone';
    rows.push(`| L1 over Redis, ${what} | 2 KB (msgpack) | ${held.toFixed(0)} | ${counted.toFixed(0)} | — |`);
    await l1.close();
    await plain.close();
    // What the L1 kept until 2026-11-28: the reply as ioredis hands it, a view into its socket's read chunk.
    const raw = new Redis(url);
    const replies: Buffer[] = [];
    await raw.getBuffer('warm');
    const rawHeld = await keptPerItem(items, async () => {
      for (let i = 0; i < items; i++) {
        const [reply] = await Promise.all([
          raw.getBuffer(`kept:k${i}`),
          beside ? raw.getBuffer('kept:big') : undefined,
        ]);
        if (reply) replies.push(reply);
      }
    });
    rows.push(
      `| before (the L1 until 2026-11-28): each reply as ioredis hands it, ${what} | 2 KB (msgpack) | ${rawHeld.toFixed(0)} | — | — |`,
    );
    raw.disconnect();
  }
  return rows;
}

/** The L1's rows for compressed entries: what the L1 keeps is the decompressed payload, zlib's output. */
async function compressedL1Rows(url: string): Promise<string[]> {
  const items = 5_000;
  const options = { prefix: 'kept-gz:', codec: 'msgpack', compress: { algorithm: 'gzip', minBytes: 1_024 } } as const;
  const writer = new Cache({ store: createRedisStore({ url }), ...options });
  const value = (i: number) => ({ id: i, text: `${i} `.repeat(1_000) });
  for (let i = 0; i < items; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => writer.set(`k${i + j}`, value(i + j))));
  }
  await writer.close();
  const l1 = new Cache({
    store: createRedisStore({ url }),
    ...options,
    l1: { maxEntries: items * 2, maxBytes: '1gb' },
  });
  await l1.get('warm');
  const held = await keptPerItem(items, async () => {
    for (let i = 0; i < items; i++) await l1.get(`k${i}`);
  });
  const counted = ((await l1.describeL1())?.bytes ?? 0) / items;
  await l1.close();
  // What the L1 kept until 2026-11-28: zlib's output as it hands it, a view into its 16 KB output chunk.
  const outputs: Buffer[] = [];
  const packed = Array.from({ length: 64 }, (_, i) => gzipSync(Buffer.from(JSON.stringify(value(i)))));
  const rawHeld = await keptPerItem(items, () => {
    for (let i = 0; i < items; i++) outputs.push(gunzipSync(packed[i & 63] as Buffer));
  });
  return [
    `| L1 over Redis, gzip-compressed entries | ${(JSON.stringify(value(0)).length / 1_000).toFixed(0)}–${(JSON.stringify(value(items - 1)).length / 1_000).toFixed(0)} KB of JSON (msgpack) | ${held.toFixed(0)} | ${counted.toFixed(0)} | — |`,
    `| before (the L1 until 2026-11-28): each decompressed payload as zlib hands it | 2–3 KB of JSON (the first 64 values) | ${rawHeld.toFixed(0)} | — | — |`,
  ];
}

/** The bytes the memory store counts per entry toward `maxBytes` (lru-cache's calculated size). */
function storeBytes(store: ReturnType<typeof createMemoryStore>, items: number): number {
  return store.calculatedSize / items;
}

/** Runs the kept-bytes table and prints it. */
export async function runKeptBytes(_args: string[]): Promise<void> {
  if (gc === undefined) throw new Error('kept-bytes needs --expose-gc (pnpm bench passes it)');
  const lines = [
    '| what keeps the bytes | value | ArrayBuffer bytes held per entry | bytes counted per entry | µs CPU per write |',
    '|---|---|---:|---:|---:|',
  ];
  for (const size of [200, 2_000]) lines.push(...(await memoryRows(size)));
  const redis = await startRedis();
  try {
    lines.push(...(await l1Rows(redis.url)));
    lines.push(...(await compressedL1Rows(redis.url)));
  } finally {
    await redis.stop();
  }
  process.stdout.write(`### kept-bytes\n\n${lines.join('\n')}\n\nMachine: ${machineInfo()}.\n`);
}
