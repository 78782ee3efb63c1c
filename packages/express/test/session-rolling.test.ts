import { waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheSessionStore, type SessionData } from '../src/index';
import { sessionBackends } from './backends';
import { call } from './helpers';
import { activeUser, cookieExpires, getJson, login, type Served, serveExpress, serveFastify } from './session-http';

const MAX_AGE = 1500;
const EVERY = 300;
// More than twice the session's lifetime: a session that only lived from its last full write would die.
const ACTIVE_FOR = 2 * MAX_AGE + 600;

const { backends, start, stop } = sessionBackends();
const servers: Served[] = [];
beforeAll(start);
afterAll(async () => {
  for (const s of servers) await s.close();
  await stop();
});

async function track(served: Promise<Served>): Promise<Served> {
  const s = await served;
  servers.push(s);
  return s;
}

describe.each(backends)('an active user stays logged in ($name)', (backend) => {
  const configs = [
    { rolling: true, resave: false },
    { rolling: true, resave: true },
    { rolling: false, resave: true },
    { rolling: false, resave: false },
  ];
  describe.concurrent('express-session', () => {
    it.each(configs)('rolling $rolling, resave $resave: a request every 300 ms, maxAge 1.5 s', async (options) => {
      const store = new CacheSessionStore({ cache: backend.cache() });
      const app = await track(serveExpress(store, { ...options, cookie: { maxAge: MAX_AGE } }));
      const { cookie, id } = await login(app);
      const { users, lastRequestAt } = await activeUser([app.url], cookie, EVERY, ACTIVE_FOR);
      expect(users.length).toBeGreaterThanOrEqual(10);
      expect(users.every((user) => user === 'ann')).toBe(true);
      // Liveness is not forever: once the user stops, the session ends after its maxAge (a request would extend it).
      // Counted from the last request, not from the loop's end: a loaded machine delays the latter.
      const idleSince = lastRequestAt;
      await waitFor(async () => (await call((cb) => store.get(id, cb))) === null || undefined, {
        timeoutMs: MAX_AGE * 3,
        description: 'the idle session to expire',
      });
      expect(Date.now() - idleSince).toBeGreaterThan(MAX_AGE / 2);
    });
  });

  describe.concurrent('@fastify/session', () => {
    it('rolling: a request every 300 ms, maxAge 1.5 s', async () => {
      const store = new CacheSessionStore({ cache: backend.cache() });
      const app = await track(serveFastify(store, { rolling: true, maxAge: MAX_AGE }));
      const { cookie } = await login(app);
      const { users } = await activeUser([app.url], cookie, EVERY, ACTIVE_FOR);
      expect(users.every((user) => user === 'ann')).toBe(true);
    });

    it('rolling on two app instances taking turns (each pushes the expiry the other does not know)', async () => {
      const cache = backend.cache();
      const a = await track(serveFastify(new CacheSessionStore({ cache }), { rolling: true, maxAge: MAX_AGE }));
      const b = await track(serveFastify(new CacheSessionStore({ cache }), { rolling: true, maxAge: MAX_AGE }));
      const { cookie } = await login(a);
      // A serves the first request only, B every later one: A's knowledge of the expiry goes stale.
      const first = await activeUser([a.url], cookie, EVERY, 1);
      const onB = await activeUser([b.url], cookie, EVERY, ACTIVE_FOR);
      expect([...first.users, ...onB.users].every((user) => user === 'ann')).toBe(true);
      expect((await getJson(a.url, '/me', cookie)).user).toBe('ann');
    });
  });

  describe('the stored cookie follows the expiry', () => {
    it("a skipped unchanged set (resave) moves the stored cookie's expires (express-session's own test)", async () => {
      const store = new CacheSessionStore({ cache: backend.cache() });
      const app = await track(serveExpress(store, { resave: true, cookie: { maxAge: 60_000 } }));
      // express-session stores the expiry the session got when it was made (the login's explicit
      // save) and writes the header's after touching it as the headers go out: log in early in a
      // second, so both fall in the same second (the header's Expires has one-second precision).
      await waitFor(() => Date.now() % 1000 < 200 || undefined, { intervalMs: 5 });
      const first = await fetch(`${app.url}/login`, { method: 'POST' });
      const { id } = (await first.json()) as { id: string };
      const cookie = (first.headers.getSetCookie()[0] as string).split(';')[0] as string;
      const stored = (await call<SessionData>((cb) => store.get(id, cb))) as SessionData;
      const firstExpires = Date.parse(String((stored.cookie as { expires: string }).expires));
      expect(new Date(firstExpires).toUTCString()).toBe(new Date(cookieExpires(first) as number).toUTCString());
      // The cookie's Expires has one-second precision: the next request must fall in a later second.
      await waitFor(() => Math.floor(Date.now() / 1000) > Math.floor(firstExpires / 1000) - 60 || undefined, {
        intervalMs: 20,
      });
      const before = Date.now();
      await getJson(app.url, '/same', cookie);
      const again = (await call<SessionData>((cb) => store.get(id, cb))) as SessionData;
      const expires = Date.parse(String((again.cookie as { expires: string }).expires));
      expect(new Date(expires).toUTCString()).not.toBe(new Date(firstExpires).toUTCString());
      expect(expires).toBeGreaterThanOrEqual(before + 60_000);
    });

    it("req.session.touch() moves the stored cookie's expires (lazy touch, no write)", async () => {
      const store = new CacheSessionStore({ cache: backend.cache() });
      const app = await track(serveExpress(store, { resave: false, cookie: { maxAge: 60_000 } }));
      const { cookie, id } = await login(app);
      await getJson(app.url, '/touch', cookie);
      const first = (await call<SessionData>((cb) => store.get(id, cb))) as SessionData;
      const firstExpires = Date.parse(String((first.cookie as { expires: string }).expires));
      await waitFor(() => Date.now() > firstExpires - 60_000 + 5 || undefined, { intervalMs: 5 });
      const before = Date.now();
      await getJson(app.url, '/touch', cookie);
      const second = (await call<SessionData>((cb) => store.get(id, cb))) as SessionData;
      const expires = Date.parse(String((second.cookie as { expires: string }).expires));
      expect(expires).toBeGreaterThan(firstExpires);
      // express-session's Cookie derives originalMaxAge from expires - Date.now() when it is built,
      // so it can be a millisecond or two short of maxAge: touch() pushes expires by that lifetime.
      const lifetime = (second.cookie as { originalMaxAge: number }).originalMaxAge;
      expect(lifetime).toBeGreaterThan(59_000);
      expect(expires).toBeGreaterThanOrEqual(before + lifetime);
    });
  });
});
