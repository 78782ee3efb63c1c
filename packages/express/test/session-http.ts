import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import express from 'express';
import session from 'express-session';
import Fastify, { type FastifyInstance } from 'fastify';
import type { CacheSessionStore, SessionData } from '../src/index';

/** A listening HTTP app: its base URL and how to stop it. */
export interface Served {
  url: string;
  close(): Promise<void>;
}

/** An express + express-session app on a loopback port: POST /login writes `user`, GET /me reads it. */
export async function serveExpress(
  store: CacheSessionStore,
  options: Partial<session.SessionOptions>,
): Promise<Served> {
  const app = express();
  app.use(session({ store, secret: 'test-secret', saveUninitialized: false, resave: false, ...options }));
  app.post('/login', (req, res, next) => {
    (req.session as unknown as SessionData).user = 'ann';
    req.session.save((err) => (err ? next(err) : res.json({ id: req.sessionID })));
  });
  app.get('/me', (req, res) => {
    res.json({ user: (req.session as unknown as SessionData | undefined)?.user ?? null, id: req.sessionID });
  });
  app.get('/touch', (req, res) => {
    (req.session as unknown as SessionData).hit = true;
    req.session.touch();
    res.json({ id: req.sessionID });
  });
  app.get('/same', (req, res) => {
    // Writes the value the session already has: unchanged data, so resave's set is skipped by the store.
    (req.session as unknown as SessionData).user = 'ann';
    res.json({ id: req.sessionID });
  });
  app.post('/bad', (req, res, next) => {
    // Session data JSON cannot hold: the save must fail loudly, not drop the key.
    (req.session as unknown as SessionData).user = 'mallory';
    (req.session as unknown as SessionData).render = () => 'x';
    req.session.save((err) => (err ? next(err) : res.json({ saved: true })));
  });
  // biome-ignore lint/suspicious/noExplicitAny: express error handler signature
  app.use((err: any, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ code: err?.code ?? null, message: String(err?.message ?? err) });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A fastify + @fastify/session app on a loopback port, same routes as `serveExpress`. */
export async function serveFastify(
  store: CacheSessionStore,
  options: { rolling: boolean; maxAge: number },
): Promise<Served> {
  const app: FastifyInstance = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: 'a-secret-with-at-least-32-characters!!',
    store: store as never,
    cookie: { secure: false, maxAge: options.maxAge },
    rolling: options.rolling,
    saveUninitialized: false,
  });
  app.post('/login', async (req) => {
    req.session.set('user' as never, 'ann' as never);
    return { id: req.session.sessionId };
  });
  app.get('/me', async (req) => ({ user: req.session.get('user' as never) ?? null, id: req.session.sessionId }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** The `name=value` part of the response's session cookie. */
export function sessionCookie(res: Response): string {
  const header = res.headers.getSetCookie()[0];
  if (!header) throw new Error(`no Set-Cookie in the response (status ${res.status})`);
  return header.split(';')[0] as string;
}

/** The `Expires` attribute of the response's session cookie, as epoch ms (undefined without a Set-Cookie). */
export function cookieExpires(res: Response): number | undefined {
  const header = res.headers.getSetCookie()[0];
  const match = header ? /Expires=([^;]+)/i.exec(header) : null;
  return match ? Date.parse(match[1] as string) : undefined;
}

/** Logs in and returns the session cookie and id. */
export async function login(served: Served): Promise<{ cookie: string; id: string }> {
  const res = await fetch(`${served.url}/login`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  return { cookie: sessionCookie(res), id };
}

/** GET `path` with the cookie; returns the JSON body. */
export async function getJson<T = { user: string | null; id: string }>(
  base: string,
  path: string,
  cookie: string,
): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { cookie } });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** What `activeUser` saw: the user each request answered, and when the last request was sent. */
export interface ActiveUser {
  users: unknown[];
  lastRequestAt: number;
}

/**
 * The scenario of issue 11: an active user, one request every `everyMs` for `forMs`, spread over the
 * given app instances in turn: the users each request saw (all 'ann' when nobody was logged out)
 * and when the last request was sent.
 */
export async function activeUser(urls: string[], cookie: string, everyMs: number, forMs: number): Promise<ActiveUser> {
  const users: unknown[] = [];
  const start = Date.now();
  let lastRequestAt = start;
  for (let i = 0; Date.now() - start < forMs; i++) {
    const next = start + (i + 1) * everyMs;
    lastRequestAt = Date.now();
    const me = await getJson(urls[i % urls.length] as string, '/me', cookie);
    users.push(me.user);
    // The scenario's own cadence: the user's next request.
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return { users, lastRequestAt };
}
