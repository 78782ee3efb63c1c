import { Cache } from '@larder/core';
import {
  type ElastiCacheEmulator,
  type FaultProxy,
  type MemcachedCluster,
  startElastiCacheEmulator,
  startFaultProxy,
} from '@larder/dev-services';
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
import { createMemcachedStore, type MemcachedStore, type MemcachedStoreOptions } from '../src';
import { memcached, text } from './helpers';

const TIMEOUT_MS = 500;
// Every call settles within its timeout plus scheduling slack on a loaded 2-core box.
const SETTLE_MS = TIMEOUT_MS + 400;
const RECOVER_MS = 5000;
const BIG = 'b'.repeat(20_000);
const SASL = { username: 'larder-fm', password: 'fm-Sasl-Secret-77' };

/** How the store reaches the proxied node: a static list (with SASL), or ElastiCache discovery. */
const MODES = [
  { name: 'single node, SASL', sasl: true, discovery: false },
  { name: 'ElastiCache discovery of one node', sasl: false, discovery: true },
] as const;

for (const mode of MODES) {
  describe(`memcached (${mode.name}) fault matrix, through the fault proxy`, () => {
    let cluster: MemcachedCluster;
    let proxy: FaultProxy;
    let emulator: ElastiCacheEmulator | undefined;
    let options: MemcachedStoreOptions;
    let store: MemcachedStore;
    let cache: Cache;
    const rows: FaultMatrixRow[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    // For the secrets sweep: every error, event and console line of the matrix.
    const seen: unknown[] = [];
    let logs: ConsoleCapture | undefined;

    beforeAll(async () => {
      process.on('unhandledRejection', onUnhandled);
      logs = captureConsole();
      cluster = await memcached(1, mode.sasl ? { sasl: SASL } : {});
      const node = cluster.nodes[0]!;
      const [host, port] = node.address.split(':');
      proxy = await startFaultProxy({ target: { host: host!, port: Number(port) } });
      const proxied = `${proxy.host}:${proxy.port}`;
      if (mode.discovery) {
        // Only the node's traffic goes through the proxy; discovery answers directly.
        emulator = await startElastiCacheEmulator({ nodes: [{ host: proxy.host, ip: proxy.host, port: proxy.port }] });
        options = { configEndpoint: emulator.endpoint, timeout: TIMEOUT_MS };
      } else {
        options = { servers: [proxied], timeout: TIMEOUT_MS, ...SASL };
      }
      store = await createMemcachedStore(options);
      cache = new Cache({ store, prefix: 'fm-cache', onError: 'miss', timeout: TIMEOUT_MS * 2 });
      cache.on('error', (event) => seen.push(event));
      for (const name of ['topology', 'discoveryError', 'nodeEjected', 'nodeReadmitted'])
        store.events.on(name, (...args: unknown[]) => seen.push(name, ...args));
      await store.set('fm:a', 'A', undefined);
      await store.set('fm:big', BIG, undefined);
      expect(text(await store.get('fm:a'))).toBe('A'); // connected before the first fault
    });
    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      logs?.restore();
      await store?.close();
      await proxy?.close();
      await emulator?.stop();
      await cluster?.stop();
      const table = formatFaultMatrix(rows, '8 calls');
      console.log(`\nmemcached (${mode.name}) fault matrix (timeout ${TIMEOUT_MS} ms):\n\n${table}\n`);
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
          calls: [{ run: () => store.touch('fm:a', 600_000), correct: (v) => v === true }],
          // Connects (and discovers) under the fault.
          openStore: () => createMemcachedStore(options),
        });
        rows.push(row);
      });
    }

    if (mode.sasl) {
      it('no SASL credential in any error, cause, event or console line of the matrix (inspect depth 10)', () => {
        expect(seen.filter((item) => item instanceof Error).length).toBeGreaterThan(10);
        expect(secretLeaks([...seen, ...logs!.lines], [SASL.password, SASL.username])).toEqual([]);
      });
    }
  });
}
