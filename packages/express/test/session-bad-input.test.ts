import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, type SessionData } from '../src/index';
import { sessionBackends } from './backends';
import { call } from './helpers';
import { getJson, login, serveExpress } from './session-http';

const { backends, start, stop } = sessionBackends();
beforeAll(start);
afterAll(stop);

const cookie = () => ({ originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString(), path: '/' });

/** Calls `run` with a callback and returns what the callback got, failing if the call threw synchronously. */
function settle(
  run: (cb: (err?: unknown, value?: unknown) => void) => void,
): Promise<{ err: unknown; value: unknown }> {
  return new Promise((resolve, reject) => {
    try {
      run((err, value) => resolve({ err, value }));
    } catch (thrown) {
      reject(new Error('the store threw synchronously instead of calling back', { cause: thrown }));
    }
  });
}

/** Runs `run` and returns the error that reached the process as an uncaught exception (not a rejection). */
async function uncaughtFrom(run: () => void): Promise<unknown> {
  const saved = {
    exception: process.listeners('uncaughtException'),
    rejection: process.listeners('unhandledRejection'),
  };
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  try {
    return await new Promise((resolve) => {
      process.once('uncaughtException', (err) => resolve({ uncaught: err }));
      process.once('unhandledRejection', (reason) => resolve({ unhandledRejection: reason }));
      run();
    });
  } finally {
    process.removeAllListeners('uncaughtException');
    process.removeAllListeners('unhandledRejection');
    for (const l of saved.exception) process.on('uncaughtException', l);
    for (const l of saved.rejection) process.on('unhandledRejection', l as NodeJS.UnhandledRejectionListener);
  }
}

describe.each(backends)('CacheSessionStore bad input ($name)', (backend) => {
  let store: CacheSessionStore;
  beforeAll(() => {
    store = new CacheSessionStore({ cache: backend.cache() });
  });

  async function stored(sid: string): Promise<SessionData | null | undefined> {
    return call<SessionData | null>((cb) => store.get(sid, cb));
  }

  it('an invalid cookie.expires (new Date(NaN)) falls back to maxAge, then to the ttl option', async () => {
    await call((cb) => store.set('nan-date', { cookie: { expires: new Date(Number.NaN), maxAge: 60_000 }, a: 1 }, cb));
    expect((await stored('nan-date'))?.a).toBe(1);
    await call((cb) => store.set('nan-date-2', { cookie: { expires: new Date(Number.NaN) }, a: 2 }, cb));
    expect((await stored('nan-date-2'))?.a).toBe(2);
    await call((cb) => store.touch('nan-date', { cookie: { expires: new Date(Number.NaN), maxAge: 60_000 } }, cb));
    expect((await stored('nan-date'))?.a).toBe(1);
  });

  it('a session stored without a cookie reads back without a cookie key', async () => {
    await call((cb) => store.set('no-cookie', { a: 1 }, cb));
    const got = await stored('no-cookie');
    expect(got).toEqual({ a: 1 });
    expect(got && 'cookie' in got).toBe(false);
  });

  it.each([
    ['a function', () => ({ f: () => 1 })],
    ['a nested function', () => ({ deep: { list: [1, () => 2] } })],
    [
      'a cycle',
      () => {
        const o: Record<string, unknown> = { a: 1 };
        o.self = o;
        return o;
      },
    ],
    ['a BigInt', () => ({ n: 10n })],
    ['a symbol', () => ({ s: Symbol('x') })],
  ])('session data with %s: SerializationError to the callback, the stored session intact', async (_, data) => {
    await call((cb) => store.set('bad-data', { cookie: cookie(), user: 'ann' }, cb));
    const { err } = await settle((cb) => store.set('bad-data', { cookie: cookie(), ...data() }, cb));
    expect(err).toMatchObject({ name: 'SerializationError', code: 'E_SERIALIZATION' });
    expect((await stored('bad-data'))?.user).toBe('ann');
  });

  it.each([
    ['negative', -1000],
    ['NaN', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
  ])('a %s maxAge: InvalidTtlError to the callback, the stored session intact', async (_, maxAge) => {
    await call((cb) => store.set('bad-age', { cookie: cookie(), user: 'ann' }, cb));
    for (const op of ['set', 'touch'] as const) {
      const { err } = await settle((cb) => store[op]('bad-age', { cookie: { maxAge }, user: 'bob' }, cb));
      expect(err).toMatchObject({ name: 'InvalidTtlError', code: 'E_INVALID_TTL' });
    }
    expect((await stored('bad-age'))?.user).toBe('ann');
  });

  it('a corrupt stored envelope: SerializationError on get, the stored value left as it was', async () => {
    const sessions = (
      store as unknown as {
        sessions: { set(k: string, v: unknown, t: number): Promise<void>; get(k: string): Promise<unknown> };
      }
    ).sessions;
    for (const corrupt of ['not an envelope', `${Date.now() + 60_000}\n{"path":"/"}\n{"user":`, 42]) {
      await sessions.set('corrupt', corrupt, 60_000);
      const { err } = await settle((cb) => store.get('corrupt', cb));
      expect(err).toMatchObject({ name: 'SerializationError', code: 'E_SERIALIZATION' });
      expect(await sessions.get('corrupt')).toEqual(corrupt);
    }
  });

  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['an object', { id: 'x' }],
    ['the empty string', ''],
  ])('a session id that is %s: InvalidKeyError to the callback of every operation', async (_, sid) => {
    const bad = sid as unknown as string;
    const results = await Promise.all([
      settle((cb) => store.get(bad, cb)),
      settle((cb) => store.set(bad, { cookie: cookie(), a: 1 }, cb)),
      settle((cb) => store.touch(bad, { cookie: cookie() }, cb)),
      settle((cb) => store.destroy(bad, cb)),
    ]);
    for (const { err } of results) expect(err).toMatchObject({ name: 'InvalidKeyError', code: 'E_INVALID_KEY' });
  });

  it('a session that is not an object: InvalidArgumentError to the callback', async () => {
    const { err } = await settle((cb) => store.set('not-object', null as unknown as SessionData, cb));
    expect(err).toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });

  it.each(['get', 'set', 'destroy', 'touch'] as const)(
    "an exception thrown by %s's callback propagates as an uncaught exception, not an unhandled rejection",
    async (op) => {
      await call((cb) => store.set('cb-throws', { cookie: cookie(), a: 1 }, cb));
      const boom = new Error(`callback of ${op} threw`);
      const thrower = () => {
        throw boom;
      };
      const got = await uncaughtFrom(() => {
        if (op === 'get' || op === 'destroy') store[op]('cb-throws', thrower);
        else store[op]('cb-throws', { cookie: { maxAge: 120_000 }, a: op === 'set' ? 2 : 1 }, thrower);
      });
      expect(got).toEqual({ uncaught: boom });
    },
  );

  it('over HTTP: a route storing a function answers 500 with E_SERIALIZATION and the session is intact', async () => {
    const app = await serveExpress(store, { cookie: { maxAge: 60_000 } });
    try {
      const { cookie: sid } = await login(app);
      const res = await fetch(`${app.url}/bad`, { method: 'POST', headers: { cookie: sid } });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ code: 'E_SERIALIZATION' });
      expect((await getJson(app.url, '/me', sid)).user).toBe('ann');
    } finally {
      await app.close();
    }
  });
});
