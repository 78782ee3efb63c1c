import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Cache } from '@larder/core';
import { type Dynalite, type FaultProxy, startDynalite, startFaultProxy } from '@larder/dev-services';
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
import { createDynamoDbStore, type DynamoDbStore, type DynamoDbStoreOptions } from '../src/index';
import { makeTable } from './helpers';

const TIMEOUT_MS = 500;
// Every call settles within its timeout plus scheduling slack on a loaded 2-core box.
const SETTLE_MS = TIMEOUT_MS + 400;
const RECOVER_MS = 5000;
const BIG = 'b'.repeat(20_000);
// Made-up keys (dynalite does not check signatures) that the secrets sweep looks for.
const credentials = {
  accessKeyId: 'AKIAFAULTMATRIX00001',
  secretAccessKey: 'fault/Matrix+Secret-Key-0001',
  sessionToken: 'fault-Matrix-Session-Token-0001',
};
// Taken now: the SDK adds a `$source` object to the credentials it is given.
const secrets = Object.values(credentials);

const text = (value: unknown) =>
  value === undefined || typeof value === 'string' ? value : Buffer.from(value as Uint8Array).toString();

describe('dynamodb (dynalite) fault matrix, through the fault proxy', () => {
  let server: Dynalite;
  let proxy: FaultProxy;
  let direct: DynamoDBClient;
  let options: DynamoDbStoreOptions;
  let store: DynamoDbStore;
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
    server = await startDynalite();
    direct = new DynamoDBClient({ endpoint: server.endpoint, region: server.region, credentials: server.credentials });
    const table = await makeTable(direct, 'faults');
    proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    options = {
      endpoint: `http://${proxy.host}:${proxy.port}`,
      region: server.region,
      credentials,
      table,
      timeout: TIMEOUT_MS,
    };
    store = createDynamoDbStore(options);
    cache = new Cache({ store, prefix: 'fm-cache', onError: 'miss', timeout: TIMEOUT_MS * 2 });
    cache.on('error', (event) => seen.push(event));
    await store.set('fm:a', 'A', undefined);
    await store.set('fm:big', BIG, undefined);
    expect(text(await store.get('fm:a'))).toBe('A'); // connected before the first fault
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    logs?.restore();
    await store?.close();
    direct?.destroy();
    await proxy?.close();
    await server?.stop();
    const table = formatFaultMatrix(rows, '8 calls');
    console.log(`\nDynamoDB (dynalite) fault matrix (timeout ${TIMEOUT_MS} ms):\n\n${table}\n`);
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
        // A new client and connection pool under the fault.
        openStore: () => createDynamoDbStore(options),
      });
      rows.push(row);
    });
  }

  it('no AWS key in any error, cause, event or console line of the matrix (inspect depth 10)', () => {
    expect(seen.filter((item) => item instanceof Error).length).toBeGreaterThan(10);
    expect(secretLeaks([...seen, ...logs!.lines], secrets)).toEqual([]);
  });
});
