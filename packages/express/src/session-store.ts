import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { UnsupportedOperationError } from '@larder/core';
import {
  type CacheLike,
  type ResolvedSessionStoreOptions,
  resolveSessionStoreOptions,
  type SessionStoreOptions,
} from './options';

/** A session as express-session and @fastify/session hand it to a store: data plus a `cookie`. */
export interface SessionData {
  cookie?: SessionCookie | null;
  [key: string]: unknown;
}

/** What `set`/`touch` accept: a `SessionData`, or express-session's / @fastify/session's session object. */
export type SessionInput = SessionData | { cookie?: SessionCookie | null };

/** The cookie fields the store reads (express-session's and @fastify/session's Cookie both fit). */
export interface SessionCookie {
  expires?: Date | string | null;
  maxAge?: number | null;
  originalMaxAge?: number | null;
  toJSON?(): unknown;
}

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * What is cached per session, as text: `<expiresAt>\n<cookie JSON>\n<data JSON>`. `expiresAt` is the
 * expiry (epoch ms) the backend was given at the last full write; the data excludes the cookie so
 * `set` can compare it with what `get` read. JSON never contains a raw newline, so the lines split
 * safely. Text, not bytes: the codec's string path (one native JSON.stringify/parse of a string) costs
 * less than copying bytes through the codec's binary marker and the Redis driver's text check,
 * about half of the store's CPU per request (measured, bench/README.md). Bytes written by earlier
 * versions still read.
 */
interface Envelope {
  e: number;
  c: string;
  d: string;
}

function encodeEnvelope(envelope: Envelope): string {
  return `${envelope.e}\n${envelope.c}\n${envelope.d}`;
}

/** Parses a stored envelope; `undefined` for anything else (a foreign or corrupt value reads as no session). */
function decodeEnvelope(value: unknown): Envelope | undefined {
  let text: string;
  if (value instanceof Uint8Array)
    text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  else if (typeof value === 'string')
    text = value; // a custom codec may hand bytes back as text
  else return undefined;
  const first = text.indexOf('\n');
  const second = first < 0 ? -1 : text.indexOf('\n', first + 1);
  if (second < 0) return undefined;
  const e = Number(text.slice(0, first));
  if (!Number.isFinite(e)) return undefined;
  return { e, c: text.slice(first + 1, second), d: text.slice(second + 1) };
}

/** The session object express-session / @fastify/session get back. */
function inflate(envelope: Envelope): SessionData {
  const data = JSON.parse(envelope.d) as SessionData;
  data.cookie = JSON.parse(envelope.c) as SessionCookie;
  return data;
}

/** What the store remembers about a session it read or wrote: its data and the backend expiry it knows of. */
interface Tracked {
  d: string;
  e: number;
}

const BACKEND_CODES = new Set(['E_BACKEND', 'E_TIMEOUT']);
const MAX_HOUR = 3_600_000;

/**
 * express-session store over any larder `Cache`. Sessions live under their own namespace of the
 * cache; the backend expiry follows the cookie. Writes are lazy: a `touch` or an unchanged `set`
 * only reaches the backend when it pushes the expiry forward by at least `touchAfter`.
 * Errors always go to the callback (sessions fail closed); `disconnect`/`connect` tell
 * express-session when the backend is down and back.
 */
export class CacheSessionStore extends EventEmitter {
  private readonly options: ResolvedSessionStoreOptions;
  private readonly sessions: CacheLike;
  private readonly tracked = new Map<string, Tracked>();
  private probeTimer: NodeJS.Timeout | undefined;
  /** Errors a fail-open (`onError: 'miss'`) cache reported for sessions being read or written, by sid. */
  private readonly swallowed = new Map<string, unknown>();
  private readonly inflight = new Map<string, number>();
  /** False between a backend error and the next successful call. */
  connected = true;
  /** The cache may turn failures into misses (`onError: 'miss'`, or a cache that does not say). */
  private readonly failOpen: boolean;

  // Inherited from express-session's Store once adopted (see adoptExpressSessionStore); typed
  // loosely so this class fits express-session's `Store` type without depending on its types.
  /** Replaces the request's session with a new one (express-session's Store). */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Request type is not a dependency
  declare regenerate: (req: any, callback: (err?: any) => any) => void;
  /** Loads a session and builds a Session object for the request (express-session's Store). */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Session type is not a dependency
  declare load: (sid: string, callback: (err: any, session?: any) => any) => void;
  /** Builds a Session object from stored data (express-session's Store). */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Session type is not a dependency
  declare createSession: (req: any, session: any) => any;

  constructor(options: SessionStoreOptions) {
    super();
    this.options = resolveSessionStoreOptions(options);
    this.sessions = this.options.cache.namespace(this.options.prefix);
    this.failOpen = this.options.cache.onError !== 'throw';
    // Sessions always fail closed: a cache configured with onError 'miss' resolves a failed read as a
    // miss (a logged-out user) and drops a failed write, emitting only an 'error' event. Catch those.
    const marker = `${this.options.prefix}:`;
    this.options.cache.on?.('error', (event) => {
      const key = event.key;
      const at = key === undefined ? -1 : key.lastIndexOf(marker);
      if (key === undefined || at < 0) return;
      const sid = key.slice(at + marker.length);
      if (this.inflight.has(sid)) this.swallowed.set(sid, event.error);
    });
    adoptExpressSessionStore(options.Store);
  }

  /** Runs a cache call for `sid`, turning an error a fail-open cache swallowed back into a rejection. */
  private guarded<T>(sid: string, call: () => Promise<T>): Promise<T> {
    // A cache that throws reports every failure itself: no bookkeeping needed.
    return this.failOpen ? this.watched(sid, call) : call();
  }

  private async watched<T>(sid: string, call: () => Promise<T>): Promise<T> {
    this.inflight.set(sid, (this.inflight.get(sid) ?? 0) + 1);
    try {
      const value = await call();
      const swallowed = this.swallowed.get(sid);
      if (swallowed !== undefined) throw swallowed;
      return value;
    } finally {
      const left = (this.inflight.get(sid) ?? 1) - 1;
      if (left === 0) {
        this.inflight.delete(sid);
        this.swallowed.delete(sid);
      } else this.inflight.set(sid, left);
    }
  }

  /** Reads a session; calls back with `undefined` (no error) when there is none. */
  // biome-ignore lint/suspicious/noExplicitAny: the session type is express-session's or @fastify/session's
  get(sid: string, callback: (err?: unknown, session?: any) => void): void {
    this.guarded(sid, () => this.sessions.get<Uint8Array>(sid)).then(
      (stored) => {
        this.ok();
        const envelope = decodeEnvelope(stored);
        if (!envelope) {
          this.tracked.delete(sid);
          return callback(null, null);
        }
        if (envelope.e <= Date.now()) {
          // The backend's expiry is coarser than ours (memcached/DynamoDB seconds): never serve a late one.
          this.tracked.delete(sid);
          return callback(null, null);
        }
        let data: SessionData;
        try {
          data = inflate(envelope);
        } catch (err) {
          return callback(err);
        }
        const known = this.tracked.get(sid);
        // A touch by this process moved the expiry without rewriting the envelope: keep the later one.
        this.track(sid, {
          d: envelope.d,
          e: known && known.d === envelope.d ? Math.max(known.e, envelope.e) : envelope.e,
        });
        callback(null, data);
      },
      (err) => this.fail(err, callback),
    );
  }

  /** Writes a session, unless its data is unchanged since it was read and its stored expiry is recent. */
  set(sid: string, session: SessionInput, callback: Callback = noop): void {
    const { cookie, ...data } = session;
    const expiresAt = this.expiresAt(cookie);
    const ttl = expiresAt - Date.now();
    if (ttl <= 0) {
      this.destroy(sid, callback);
      return;
    }
    let d: string;
    try {
      d = JSON.stringify(data);
    } catch (err) {
      callback(err);
      return;
    }
    const known = this.tracked.get(sid);
    if (known && known.d === d) {
      // Same data as read: at most an expiry push, never a value rewrite (which could undo a concurrent change).
      this.pushExpiry(sid, session, known, expiresAt, callback);
      return;
    }
    let payload: string;
    try {
      payload = encodeEnvelope({ e: expiresAt, c: cookieText(cookie), d });
    } catch (err) {
      callback(err);
      return;
    }
    this.guarded(sid, () => this.sessions.set(sid, payload, ttl)).then(
      () => {
        this.ok();
        this.track(sid, { d, e: expiresAt });
        callback(null);
      },
      (err) => this.fail(err, callback),
    );
  }

  /** Pushes the session's expiry forward (expiry only, no value rewrite) when that gains at least `touchAfter`. */
  touch(sid: string, session: SessionInput, callback: Callback = noop): void {
    const expiresAt = this.expiresAt(session.cookie);
    const known = this.tracked.get(sid);
    if (!known) {
      // Never read by this process: nothing to compare with, so write the expiry.
      this.writeExpiry(sid, session, undefined, expiresAt, callback);
      return;
    }
    this.pushExpiry(sid, session, known, expiresAt, callback);
  }

  /** Deletes a session. */
  destroy(sid: string, callback: Callback = noop): void {
    this.tracked.delete(sid);
    this.guarded(sid, () => this.sessions.delete(sid)).then(
      () => {
        this.ok();
        callback(null);
      },
      (err) => this.fail(err, callback),
    );
  }

  /** Lists every live session (needs a driver that can enumerate its keys). */
  // biome-ignore lint/suspicious/noExplicitAny: the session type is express-session's or @fastify/session's
  all(callback: (err?: unknown, sessions?: any) => void): void {
    this.collect().then(
      async (ids) => {
        const sessions: SessionData[] = [];
        for (const sid of ids) {
          const envelope = decodeEnvelope(await this.sessions.get<Uint8Array>(sid));
          if (!envelope || envelope.e <= Date.now()) continue;
          const data = inflate(envelope);
          sessions.push(Object.assign(data, { id: sid }));
        }
        callback(null, sessions);
      },
      (err) => this.fail(err, callback),
    );
  }

  /** Counts the sessions (needs a driver that can enumerate its keys). */
  length(callback: Callback<number>): void {
    this.collect().then(
      (ids) => callback(null, ids.length),
      (err) => this.fail(err, callback),
    );
  }

  /** Lists the session ids (needs a driver that can enumerate its keys). */
  ids(callback: Callback<string[]>): void {
    this.collect().then(
      (ids) => callback(null, ids),
      (err) => this.fail(err, callback),
    );
  }

  /** Deletes every session, and only sessions (needs a driver that can clear its keys). */
  clear(callback: Callback = noop): void {
    this.requireEnumeration('clear')
      .then(() => this.sessions.clear())
      .then(
        () => {
          this.tracked.clear();
          this.ok();
          callback(null);
        },
        (err) => this.fail(err, callback),
      );
  }

  /** Stops the recovery probe (the cache itself belongs to the caller). */
  close(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private pushExpiry(sid: string, session: SessionInput, known: Tracked, expiresAt: number, callback: Callback): void {
    const gain = expiresAt - known.e;
    if (gain < this.touchAfter(expiresAt - Date.now())) {
      callback(null);
      return;
    }
    this.writeExpiry(sid, session, known, expiresAt, callback);
  }

  private writeExpiry(
    sid: string,
    session: SessionInput,
    known: Tracked | undefined,
    expiresAt: number,
    callback: Callback,
  ): void {
    const ttl = expiresAt - Date.now();
    if (ttl <= 0) {
      callback(null);
      return;
    }
    this.guarded(sid, () => this.sessions.touch(sid, ttl)).then(
      (found) => {
        this.ok();
        if (found && known) this.track(sid, { d: known.d, e: expiresAt });
        callback(null);
      },
      (err) => {
        // A driver without an expiry-only write: fall back to rewriting the session.
        if (err instanceof UnsupportedOperationError) {
          this.tracked.delete(sid);
          return this.set(sid, session, callback);
        }
        this.fail(err, callback);
      },
    );
  }

  /** Minimum expiry gain worth a backend write, for a session living `lifetimeMs`. */
  private touchAfter(lifetimeMs: number): number {
    if (this.options.touchAfterMs !== undefined) return this.options.touchAfterMs;
    return Math.min(MAX_HOUR, Math.max(0, lifetimeMs) / 10);
  }

  /** Absolute expiry (epoch ms) from the cookie's `expires`, else its `maxAge`, else the configured TTL. */
  private expiresAt(cookie: SessionCookie | null | undefined): number {
    const now = Date.now();
    const expires = cookie?.expires;
    if (expires instanceof Date) return expires.getTime();
    if (typeof expires === 'string') {
      const at = Date.parse(expires);
      if (!Number.isNaN(at)) return at;
    }
    if (typeof cookie?.maxAge === 'number') return now + cookie.maxAge;
    return now + this.options.ttlMs;
  }

  private track(sid: string, entry: Tracked): void {
    if (this.options.maxTracked === 0) return;
    this.tracked.delete(sid);
    this.tracked.set(sid, entry);
    if (this.tracked.size > this.options.maxTracked) {
      const oldest = this.tracked.keys().next().value;
      if (oldest !== undefined) this.tracked.delete(oldest);
    }
  }

  private async requireEnumeration(operation: string): Promise<void> {
    const store = await this.options.cache.getStore();
    if (!store.capabilities.enumerate) {
      throw new UnsupportedOperationError(
        operation,
        store.driver,
        'the session store can only list or clear sessions on a driver that enumerates its keys',
      );
    }
  }

  private async collect(): Promise<string[]> {
    await this.requireEnumeration('listing sessions');
    const ids: string[] = [];
    for await (const key of this.sessions.keys()) ids.push(key);
    this.ok();
    return ids;
  }

  /** Passes the error on (never dropped) and, for a backend failure, reports the store down and probes it. */
  private fail(err: unknown, callback: Callback<never>): void {
    if (isBackendError(err)) this.down();
    callback(err);
  }

  private ok(): void {
    if (this.connected) return;
    this.connected = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.emit('connect');
  }

  private down(): void {
    if (this.connected) {
      this.connected = false;
      this.emit('disconnect');
    }
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      this.sessions.has('__larder_probe__').then(
        () => this.ok(),
        () => this.scheduleProbe(),
      );
    }, this.options.probeIntervalMs);
    // The probe never keeps the process alive.
    this.probeTimer.unref();
  }
}

function noop(): void {}

/** The cookie as JSON text (what `JSON.stringify(cookie)` gives). */
function cookieText(cookie: SessionCookie | null | undefined): string {
  if (!cookie) return 'null';
  const json = (typeof cookie.toJSON === 'function' ? cookie.toJSON() : cookie) as Record<string, unknown>;
  const expires = json.expires;
  if (!(expires instanceof Date)) return JSON.stringify(json);
  // JSON.stringify reaches Date#toJSON through a slow generic path: hand it the ISO string (in a copy).
  return JSON.stringify({ ...json, expires: Number.isNaN(expires.getTime()) ? null : expires.toISOString() });
}

function isBackendError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && BACKEND_CODES.has(code);
}

let adopted = false;

/**
 * Makes `CacheSessionStore` a subclass of express-session's `Store` (which gives `regenerate`,
 * `load` and `createSession`, and passes `instanceof` checks) without a hard dependency:
 * express-session is an optional peer, and @fastify/session needs none of it.
 */
function adoptExpressSessionStore(given?: new () => object): void {
  if (adopted) return;
  let Store = given;
  if (!Store) {
    try {
      const require = createRequire(import.meta.url);
      Store = (require('express-session') as { Store?: new () => object }).Store;
    } catch {
      return;
    }
  }
  if (!Store || !(Store.prototype instanceof EventEmitter)) return;
  adopted = true;
  Object.setPrototypeOf(CacheSessionStore.prototype, Store.prototype);
}
