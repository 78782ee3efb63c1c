// The multi-instance scenarios of issue 11, over real HTTP against two app instances sharing one
// backend: merge (50 concurrent keys), sessionLock (50 concurrent increments), no resurrection
// (a destroy during a slow request), per-user revocation across instances.
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { BackendSpec } from './fixtures/session-app';
import { forkApps, type Instances } from './fork-apps';

export type { Instances } from './fork-apps';

const APP = fileURLToPath(new URL('./fixtures/session-app.ts', import.meta.url));

/** Forks one app process per instance on `spec`'s backend. */
export function forkInstances(spec: BackendSpec): Promise<Instances> {
  return forkApps(APP, { LARDER_TEST_BACKEND: JSON.stringify(spec) });
}

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the fixture's routes
type Body = any;

async function call(
  url: string,
  method: string,
  cookie?: string,
): Promise<{ status: number; body: Body; cookie?: string }> {
  const res = await fetch(url, { method, headers: cookie ? { cookie } : {} });
  const setCookie = res.headers.getSetCookie()[0]?.split(';')[0];
  return { status: res.status, body: await res.json(), cookie: setCookie };
}

async function login(url: string, user: string): Promise<{ cookie: string; id: string }> {
  const res = await call(`${url}/login?user=${user}`, 'POST');
  if (res.status !== 200 || !res.cookie) throw new Error(`login answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { cookie: res.cookie, id: res.body.id };
}

/** Registers the four scenarios; `instances()` gives the running pair (started by the file's beforeAll). */
export function instanceScenarios(instances: () => Instances, timeout = 30_000): void {
  it(
    'merge: 50 concurrent requests over two instances, each setting its own key, leave all 50 keys',
    async () => {
      const [a, b] = instances().urls;
      const { cookie } = await login(a, 'merge-user');
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => call(`${i % 2 ? b : a}/set/k${i}`, 'POST', cookie)),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(50).fill(200));
      const me = await call(`${a}/me`, 'GET', cookie);
      const keys = Object.keys(me.body.data).filter((k) => k.startsWith('k'));
      expect(keys.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`).sort());
      expect(me.body.data.userId).toBe('merge-user');
    },
    timeout,
  );

  it(
    'sessionLock: 50 concurrent increments over two instances end at 50',
    async () => {
      const [a, b] = instances().urls;
      const { cookie } = await login(a, 'lock-user');
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => call(`${i % 2 ? b : a}/incr`, 'POST', cookie)),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(50).fill(200));
      // Serialized: every request saw a different count.
      expect(answers.map((r) => r.body.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect((await call(`${b}/me`, 'GET', cookie)).body.data.n).toBe(50);
    },
    timeout,
  );

  it(
    'no resurrection: a destroy on one instance during a slow request on the other stays destroyed',
    async () => {
      const [a, b] = instances().urls;
      const { cookie, id } = await login(a, 'slow-user');
      const slow = call(`${a}/slow`, 'POST', cookie);
      const destroyed = await call(`${b}/destroy`, 'POST', cookie);
      expect(destroyed.status).toBe(200);
      expect((await slow).status).toBe(200);
      for (const url of [a, b]) {
        const me = await call(`${url}/me`, 'GET', cookie);
        expect(me.body.data).toEqual({});
        expect(me.body.id).not.toBe(id);
      }
    },
    timeout,
  );

  it(
    'destroyUser on one instance logs the user out on the other; other users stay',
    async () => {
      const [a, b] = instances().urls;
      const first = await login(a, 'alice');
      const second = await login(b, 'alice');
      const other = await login(a, 'bob');
      const before = await call(`${b}/sessions-of?user=alice`, 'GET');
      expect([...before.body.ids].sort()).toEqual([first.id, second.id].sort());
      const revoked = await call(`${b}/destroy-user?user=alice`, 'POST');
      expect(revoked.body.count).toBe(2);
      for (const { cookie } of [first, second]) {
        expect((await call(`${a}/me`, 'GET', cookie)).body.data.userId).toBeUndefined();
      }
      expect((await call(`${a}/me`, 'GET', other.cookie)).body.data.userId).toBe('bob');
      expect((await call(`${a}/sessions-of?user=alice`, 'GET')).body.ids).toEqual([]);
      expect((await call(`${a}/sessions-of?user=bob`, 'GET')).body.ids).toEqual([other.id]);
    },
    timeout,
  );
}
