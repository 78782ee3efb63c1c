import assert from 'node:assert/strict';
import type { CacheStore } from '@larder/core/driver';
import {
  type FaultMatrixRow,
  type MatrixCall,
  type MeasureFaultOptions,
  measureFault,
  payloadText,
  storeFaultCalls,
} from './fault-matrix';

/** What `measureStoreFault` needs: one row of a driver's fault matrix. */
export interface StoreFaultOptions<F> extends Pick<MeasureFaultOptions<F>, 'proxy' | 'fault' | 'settleMs' | 'errors'> {
  /** The store behind the proxy; holds `fm:a` = 'A' and `fm:big` = `big`. */
  store: CacheStore;
  /** A fail-open `Cache` over the store: its get of an absent key must resolve `undefined` in time. */
  cache: { get(key: string): Promise<unknown> };
  big: string;
  /** Tags this row's write keys. */
  tag: string;
  /** The driver's own calls, made after the common ones. */
  calls: readonly MatrixCall[];
  /** Opens a new store through the proxy, as an app starting under the fault would. */
  openStore: () => CacheStore | Promise<CacheStore>;
  /** Reads `key` on the server, to check a write that succeeded under the fault (default: through `store`). */
  readBack?: (key: string) => Promise<unknown>;
  /** Unhandled rejections seen so far: must stay empty. */
  unhandled: readonly unknown[];
  /** Give up waiting for recovery after this many ms. @default 5000 */
  recoverTimeoutMs?: number;
}

/**
 * One fault of a driver's matrix: the common store calls, the driver's own, a store opened under
 * the fault (connect, read, close), a fail-open facade read; every call settles in time with the
 * right value or a typed error; the writes that succeeded are there; no unhandled rejection; the
 * store recovers by itself. Returns the matrix row.
 */
export async function measureStoreFault<F>(options: StoreFaultOptions<F>): Promise<FaultMatrixRow> {
  const { store, tag } = options;
  const fresh: MatrixCall = {
    run: async () => {
      const opened = await options.openStore();
      try {
        return await opened.get('fm:a');
      } finally {
        await opened.close?.();
      }
    },
    correct: (v) => payloadText(v) === 'A',
  };
  const calls = [...storeFaultCalls(store, tag, options.big), ...options.calls, fresh];
  const { row, results } = await measureFault({
    proxy: options.proxy,
    fault: options.fault,
    errors: options.errors,
    settleMs: options.settleMs,
    recoverTimeoutMs: options.recoverTimeoutMs,
    calls,
    facade: async () => assert.equal(await options.cache.get('absent'), undefined, 'a fail-open get misses'),
    recovered: async () => {
      await store.set(`fm:after:${tag}`, 'after', 60_000);
      return (
        payloadText(await store.get(`fm:after:${tag}`)) === 'after' && payloadText(await store.get('fm:a')) === 'A'
      );
    },
  });
  const readBack = options.readBack ?? ((key: string) => store.get(key));
  // Writes that succeeded under the fault are there.
  for (const [i, call] of calls.entries()) {
    if (call.writes === undefined || results[i]![0] !== 'ok') continue;
    const [key, text] = call.writes;
    assert.equal(payloadText(await readBack(key)), text, `${key}, written under the fault`);
  }
  assert.deepEqual(options.unhandled, [], 'no unhandled rejection');
  const untyped = results.filter(([o]) => o !== 'ok' && o !== 'TimeoutError' && o !== 'BackendError');
  assert.deepEqual(untyped, [], 'every call is ok, a TimeoutError or a BackendError');
  return row;
}
