import { Cache } from '@larder/core';
import { type FaultProxy, type RedisServer, startFaultProxy, startRedis } from '@larder/dev-services';
import {
  type ConsoleCapture,
  captureConsole,
  FAULT_CASES,
  type FaultMatrixRow,
  formatFaultMatrix,
  measureFault,
  secretLeaks,
  storeFaultCalls,
} from '@larder/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { text } from './helpers';

const TIMEOUT_MS = 500;
// Every call settles within its timeout plus scheduling slack on a loaded 2-core box.
const SETTLE_MS = TIMEOUT_MS + 400;
const RECOVER_MS = 5000;
const BIG = 'b'.repeat(20_000);
// requirepass of the server; the secrets sweep looks for it.
const PASSWORD = 'fault-Matrix-Redis-Pw-0001';

describe('redis (single node) fault matrix, through the fault proxy', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let store: RedisStore;
  let cache: Cache;
  let storeUrl: string;
  const rows: FaultMatrixRow[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  // For the secrets sweep: every error, event and console line of the matrix.
  const seen: unknown[] = [];
  let logs: ConsoleCapture | undefined;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    logs = captureConsole();
    server = await startRedis({ password: PASSWORD });
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    storeUrl = `redis://:${PASSWORD}@${proxy.host}:${proxy.port}`;
    store = createRedisStore({ url: storeUrl, commandTimeoutMs: TIMEOUT_MS });
    cache = new Cache({ store, prefix: 'fm-cache', onError: 'miss', timeout: TIMEOUT_MS * 2 });
    cache.on('error', (event) => seen.push(event));
    await server.command('SET', 'fm:a', 'A');
    await server.command('SET', 'fm:big', BIG);
    expect(text(await store.get('fm:a'))).toBe('A'); // connected before the first fault
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    logs?.restore();
    await store?.close();
    await proxy?.close();
    await server?.stop();
    const table = formatFaultMatrix(rows, '8 calls');
    console.log(`\nRedis single-node fault matrix (commandTimeoutMs ${TIMEOUT_MS}):\n\n${table}\n`);
  });

  for (const [name, fault] of FAULT_CASES) {
    it(`${name}: every call settles in time, correct or a typed error; recovers by itself`, async () => {
      const tag = fault.kind;
      const { row, results } = await measureFault({
        proxy,
        fault: [name, fault],
        errors: seen,
        settleMs: SETTLE_MS,
        recoverTimeoutMs: RECOVER_MS,
        calls: [
          ...storeFaultCalls(store, tag, BIG),
          { run: () => store.has('fm:a'), correct: (v) => v === true },
          // A new store opened under the fault: connect, read, close (close must settle too).
          {
            run: async () => {
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
            correct: (v) => text(v) === 'A',
          },
        ],
        // The facade failing open: a miss in time, never a rejection.
        facade: async () => expect(await cache.get('absent')).toBeUndefined(),
        recovered: async () => {
          await store.set(`fm:after:${tag}`, 'after', 60_000);
          return text(await store.get(`fm:after:${tag}`)) === 'after' && text(await store.get('fm:a')) === 'A';
        },
      });
      // Writes that succeeded under the fault are there.
      for (const [i, key] of [
        [3, `fm:w:${tag}`],
        [4, `fm:m:${tag}`],
      ] as const) {
        if (results[i]![0] === 'ok') expect(await server.command('GET', key)).toBeTruthy();
      }
      expect(unhandled).toEqual([]);
      rows.push(row);
      expect(results.every(([o]) => o === 'ok' || o === 'TimeoutError' || o === 'BackendError')).toBe(true);
    });
  }

  it('no password in any error, cause, event or console line of the matrix (inspect depth 10)', () => {
    expect(seen.filter((item) => item instanceof Error).length).toBeGreaterThan(10);
    expect(secretLeaks([...seen, ...logs!.lines], [PASSWORD])).toEqual([]);
  });
});
