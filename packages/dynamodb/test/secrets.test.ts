import { inspect } from 'node:util';
import { BackendError } from '@larder/core';
import { type Dynalite, findFreePort, startDynalite } from '@larder/dev-services';
import { captureConsole, secretLeaks } from '@larder/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore, createTables, type DynamoDbStore } from '../src/index';

// Wrong, made-up keys: dynalite does not check signatures, so every call reaches the error path we
// choose (a missing table, a refused connection) with these keys in the client.
const credentials = {
  accessKeyId: 'AKIALARDERSECRET0001',
  secretAccessKey: 'larder/Secret+Access-Key-0001',
  sessionToken: 'larder-Session-Token-0001',
};
const secrets = Object.values(credentials);

/** Everything a logger could print of `error`. */
function printed(error: unknown): string {
  let json = '';
  try {
    json = JSON.stringify(error);
  } catch {
    // inspect covers it.
  }
  return `${inspect(error, { depth: 10, showHidden: true })}\n${String(error)}\n${json}`;
}

function expectNoSecret(errors: unknown[]): void {
  expect(errors.length).toBeGreaterThan(0);
  const text = errors.map(printed).join('\n');
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Every operation of the store, settled: the rejections. */
async function failures(store: DynamoDbStore): Promise<unknown[]> {
  const results = await Promise.allSettled([
    store.get('k'),
    store.getMany(['k', 'l']),
    store.set('k', 'v', 1000),
    store.setMany([['k', 'v']], 1000),
    store.add('k', 'v', 1000),
    store.delete('k'),
    store.deleteMany(['k', 'l']),
    store.increment('n', 1, undefined),
    store.touch('k', 1000),
    store.pull('k'),
  ]);
  return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
}

describe('no AWS key in any error', () => {
  let server: Dynalite;
  beforeAll(async () => {
    server = await startDynalite();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a missing table: every operation rejects with a BackendError that shows no key (inspect depth 10)', async () => {
    const store = createDynamoDbStore({
      endpoint: server.endpoint,
      region: server.region,
      credentials,
      table: 'larder_no_such_table',
    });
    try {
      const errors = await failures(store);
      expect(errors).toHaveLength(10);
      for (const error of errors) expect(error).toBeInstanceOf(BackendError);
      expect(printed(errors[0])).toMatch(/ResourceNotFound|non-existent|not found/i);
      expectNoSecret(errors);
    } finally {
      await store.close();
    }
  });

  it('a refused connection and createTables failures show no key', async () => {
    const endpoint = `http://127.0.0.1:${await findFreePort()}`;
    const store = createDynamoDbStore({ endpoint, region: 'us-east-1', credentials, timeout: 2000 });
    try {
      const errors = await failures(store);
      const created = await createTables({
        endpoint,
        region: 'us-east-1',
        credentials,
        tables: [{ name: 'larder_refused' }],
      }).catch((e: unknown) => e);
      expect(created).toBeInstanceOf(BackendError);
      expectNoSecret([...errors, created]);
    } finally {
      await store.close();
    }
  });
});

// What the clients and the store log (console) while the tests above run, swept at the end.
const logs = captureConsole();
afterAll(() => logs.restore());

it('no AWS key in any console line printed while the wrong-credential stores ran', () => {
  expect(secretLeaks(logs.lines, secrets)).toEqual([]);
});
