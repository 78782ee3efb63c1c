import { Cache, LarderError } from '@larder/core';
import {
  type Fault,
  type FaultProxy,
  type RedisServer,
  startFaultProxy,
  startRedis,
  waitFor,
} from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { text } from './helpers';

const TIMEOUT_MS = 500;
// Every call settles within its timeout plus scheduling slack on a loaded 2-core box.
const SETTLE_MS = TIMEOUT_MS + 400;
const RECOVER_MS = 5000;
const BIG = 'b'.repeat(20_000);

const FAULTS: [string, Fault][] = [
  ['latency 100 ms', { kind: 'latency', ms: 100 }],
  ['latency 1 s (over the timeout)', { kind: 'latency', ms: 1000 }],
  ['bandwidth 20 KB/s', { kind: 'bandwidth', bytesPerSec: 20_000 }],
  ['blackhole', { kind: 'blackhole' }],
  ['half-open', { kind: 'halfOpen' }],
  ['reset mid-reply', { kind: 'resetMidReply' }],
  ['slow close 1 s', { kind: 'slowClose', ms: 1000 }],
  ['replies in 1-byte packets', { kind: 'splitReplies' }],
];

interface Row {
  fault: string;
  outcome: string;
  settleMs: number;
  facadeMs: number;
  recoverMs: number;
}

type Outcome = 'ok' | string;

/** Runs `call` and checks its result with `correct`; returns 'ok', or the typed error's class name. */
async function outcomeOf(
  call: () => Promise<unknown>,
  correct: (value: unknown) => boolean,
): Promise<[Outcome, number]> {
  const started = Date.now();
  try {
    const value = await call();
    expect(correct(value), 'a call that succeeds returns the right value').toBe(true);
    return ['ok', Date.now() - started];
  } catch (error) {
    expect(error).toBeInstanceOf(LarderError);
    return [(error as Error).name, Date.now() - started];
  }
}

describe('redis (single node) fault matrix, through the fault proxy', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let store: RedisStore;
  let cache: Cache;
  let storeUrl: string;
  const rows: Row[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startRedis();
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    storeUrl = `redis://${proxy.host}:${proxy.port}`;
    store = createRedisStore({ url: storeUrl, commandTimeoutMs: TIMEOUT_MS });
    cache = new Cache({ store, prefix: 'fm-cache', onError: 'miss', timeout: TIMEOUT_MS * 2 });
    await server.command('SET', 'fm:a', 'A');
    await server.command('SET', 'fm:big', BIG);
    expect(text(await store.get('fm:a'))).toBe('A'); // connected before the first fault
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await store?.close();
    await proxy?.close();
    await server?.stop();
    const table = [
      '| fault | 8 calls under the fault | slowest settled (ms) | `Cache` get, fail open (ms) | recovered after (ms) |',
      '| --- | --- | ---: | ---: | ---: |',
      ...rows.map((r) => `| ${r.fault} | ${r.outcome} | ${r.settleMs} | ${r.facadeMs} | ${r.recoverMs} |`),
    ].join('\n');
    console.log(`\nRedis single-node fault matrix (commandTimeoutMs ${TIMEOUT_MS}):\n\n${table}\n`);
  });

  for (const [name, fault] of FAULTS) {
    it(`${name}: every call settles in time, correct or a typed error; recovers by itself`, async () => {
      const tag = fault.kind;
      proxy.setFault(fault);
      const results = await Promise.all([
        outcomeOf(
          () => store.get('fm:a'),
          (v) => text(v) === 'A',
        ),
        outcomeOf(
          () => store.get('fm:big'),
          (v) => text(v) === BIG,
        ),
        outcomeOf(
          () => store.getMany(['fm:a', 'fm:none']),
          (v) => {
            const list = v as unknown[];
            return text(list[0]) === 'A' && list[1] === undefined;
          },
        ),
        outcomeOf(
          () => store.set(`fm:w:${tag}`, 'W', 60_000),
          (v) => v === undefined,
        ),
        outcomeOf(
          () => store.setMany([[`fm:m:${tag}`, 'M']], 60_000),
          (v) => v === undefined,
        ),
        outcomeOf(
          () => store.increment(`fm:n:${tag}`, 1, 60_000),
          (v) => v === 1,
        ),
        outcomeOf(
          () => store.has('fm:a'),
          (v) => v === true,
        ),
        // A new store opened under the fault: connect, read, close (close must settle too).
        outcomeOf(
          async () => {
            const fresh = createRedisStore({
              url: storeUrl,
              commandTimeoutMs: TIMEOUT_MS,
              connectTimeoutMs: TIMEOUT_MS,
            });
            try {
              return await fresh.get('fm:a');
            } finally {
              await fresh.close();
            }
          },
          (v) => text(v) === 'A',
        ),
      ]);
      // The facade failing open: a miss in time, never a rejection.
      const facadeStarted = Date.now();
      expect(await cache.get('absent')).toBeUndefined();
      const facadeMs = Date.now() - facadeStarted;
      expect(facadeMs).toBeLessThan(SETTLE_MS);
      const settleMs = Math.max(...results.map(([, ms]) => ms));
      expect(settleMs).toBeLessThan(SETTLE_MS);
      const counts = new Map<string, number>();
      for (const [outcome] of results) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      const outcome = [...counts].map(([what, n]) => `${n} ${what}`).join(', ');

      proxy.clear();
      const cleared = Date.now();
      await waitFor(
        async () => {
          await store.set(`fm:after:${tag}`, 'after', 60_000);
          return text(await store.get(`fm:after:${tag}`)) === 'after' && text(await store.get('fm:a')) === 'A';
        },
        { timeoutMs: RECOVER_MS, intervalMs: 20, description: `recovery after ${name}` },
      );
      const recoverMs = Date.now() - cleared;
      // Writes that succeeded under the fault are there.
      for (const [i, key] of [
        [3, `fm:w:${tag}`],
        [4, `fm:m:${tag}`],
      ] as const) {
        if (results[i]![0] === 'ok') expect(await server.command('GET', key)).toBeTruthy();
      }
      expect(unhandled).toEqual([]);
      rows.push({ fault: name, outcome, settleMs, facadeMs, recoverMs });
      expect(results.every(([o]) => o === 'ok' || o === 'TimeoutError' || o === 'BackendError')).toBe(true);
    });
  }
});
