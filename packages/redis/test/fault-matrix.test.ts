import { Cache } from '@larder/core';
import { type FaultProxy, type RedisServer, startFaultProxy, startRedis } from '@larder/dev-services';
import {
  type ConsoleCapture,
  captureConsole,
  FAULT_CASES,
  type FaultMatrixRow,
  formatFaultMatrix,
  measureStoreFault,
  secretLeaks,
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
      const row = await measureStoreFault({
        proxy,
        fault: [name, fault],
        store,
        cache,
        big: BIG,
        tag: fault.kind,
        errors: seen,
        unhandled,
        settleMs: SETTLE_MS,
        recoverTimeoutMs: RECOVER_MS,
        calls: [{ run: () => store.has('fm:a'), correct: (v) => v === true }],
        // A new client and connection, whose close must settle too.
        openStore: () =>
          createRedisStore({ url: storeUrl, commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS }),
        readBack: (key) => server.command('GET', key),
      });
      rows.push(row);
    });
  }

  it('no password in any error, cause, event or console line of the matrix (inspect depth 10)', () => {
    expect(seen.filter((item) => item instanceof Error).length).toBeGreaterThan(10);
    expect(secretLeaks([...seen, ...logs!.lines], [PASSWORD])).toEqual([]);
  });
});
