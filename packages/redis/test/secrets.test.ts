import { inspect } from 'node:util';
import { BackendError, Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { captureConsole, secretLeaks } from '@larder/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStoreOptions } from '../src/index';

const WRONG = 'wrong-Secret-pw-4711';
const SENTINEL_WRONG = 'sentinel-Secret-pw-0815';

/** Every text a user or a logger could see of `error`: inspect, JSON, and each message and cause in the chain. */
function renderings(error: unknown): string[] {
  const out = [inspect(error, { depth: 10 }), inspect(error, { depth: 10, showHidden: true })];
  let current: unknown = error;
  for (let i = 0; current !== undefined && current !== null && i < 10; i++) {
    out.push(String(current));
    try {
      out.push(JSON.stringify(current, Object.getOwnPropertyNames(current)));
      out.push(JSON.stringify(current));
    } catch {
      // a cycle: inspect above covers it
    }
    if (current instanceof Error) out.push(current.message, current.stack ?? '');
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

function expectNoSecret(texts: string[], secrets: string[]): void {
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Runs a store with `options` through a Cache facade (fail open and fail closed) and returns what it exposed. */
async function collect(options: RedisStoreOptions): Promise<{ errors: unknown[]; texts: string[] }> {
  const errors: unknown[] = [];
  const store = createRedisStore({ commandTimeoutMs: 1000, connectTimeoutMs: 1000, ...options });
  try {
    errors.push(await store.get('k').catch((e: unknown) => e));
    errors.push(await store.set('k', 'v', 1000).catch((e: unknown) => e));
    const events: unknown[] = [];
    const open = new Cache({ store, onError: 'miss' }).on('error', (event) => events.push(event));
    expect(await open.get('k')).toBeUndefined();
    errors.push(await new Cache({ store }).get('k').catch((e: unknown) => e));
    expect(events.length).toBeGreaterThan(0);
    errors.push(...events);
  } finally {
    await store.close();
  }
  return { errors, texts: errors.flatMap(renderings) };
}

describe('redis: no secret in any error', () => {
  let acl: RedisServer;
  let requirepass: RedisServer;
  beforeAll(async () => {
    [acl, requirepass] = await Promise.all([
      startRedis({ username: 'alice', password: 'right-pw' }),
      startRedis({ password: 'right-pw' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([acl?.stop(), requirepass?.stop()]);
  });

  it('a wrong ACL password in the URL is in no error, cause, inspect output, JSON or event', async () => {
    const { errors, texts } = await collect({ url: `redis://alice:${WRONG}@127.0.0.1:${acl.port}` });
    expect(errors[0]).toBeInstanceOf(BackendError);
    expect(String((errors[0] as Error).message)).toMatch(/WRONGPASS|invalid username-password/i);
    expectNoSecret(texts, [WRONG, encodeURIComponent(WRONG)]);
  });

  it('a wrong requirepass password (password option, RESP3 HELLO on connect) is in no error', async () => {
    const { errors, texts } = await collect({
      url: `redis://127.0.0.1:${requirepass.port}`,
      password: WRONG,
      redisOptions: { protocol: 3 } as RedisStoreOptions['redisOptions'],
    });
    expect(errors[0]).toBeInstanceOf(BackendError);
    expectNoSecret(texts, [WRONG]);
  });

  it('a wrong username and password given as options and in redisOptions are in no error', async () => {
    const { errors, texts } = await collect({
      url: `redis://127.0.0.1:${acl.port}`,
      username: 'alice',
      redisOptions: { password: WRONG },
    });
    expect(errors[0]).toBeInstanceOf(BackendError);
    expectNoSecret(texts, [WRONG]);
  });

  it('Sentinel: a wrong sentinel password and data-node password are in no error', async () => {
    // The "Sentinels" here are a plain requirepass server: AUTH fails the same way a Sentinel's would.
    const { errors, texts } = await collect({
      sentinels: [{ host: '127.0.0.1', port: requirepass.port }],
      sentinelPassword: SENTINEL_WRONG,
      password: WRONG,
      commandTimeoutMs: 300,
    });
    expect(errors[0]).toBeInstanceOf(BackendError); // a TimeoutError: no Sentinel answers with a master
    expectNoSecret(texts, [WRONG, SENTINEL_WRONG]);
  });

  it('Cluster: a wrong password for the seed nodes is in no error', async () => {
    const { errors, texts } = await collect({
      clusterNodes: [{ host: '127.0.0.1', port: acl.port }],
      url: `redis://alice:${WRONG}@127.0.0.1:${acl.port}`,
    });
    expect(errors[0]).toBeInstanceOf(BackendError);
    expectNoSecret(texts, [WRONG]);
  });
});

// What the clients and the store log (console) while the tests above run, swept at the end.
const logs = captureConsole();
afterAll(() => logs.restore());

it('no password in any console line printed while the wrong-credential stores ran', () => {
  expect(secretLeaks(logs.lines, [WRONG, encodeURIComponent(WRONG), SENTINEL_WRONG])).toEqual([]);
});
