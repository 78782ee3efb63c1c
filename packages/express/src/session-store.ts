import { EventEmitter } from 'node:events';
import { describe, InvalidArgumentError, InvalidKeyError, UnsupportedOperationError } from '@larder/core';
import {
  type CacheLike,
  type ResolvedSessionStoreOptions,
  resolveSessionStoreOptions,
  type SessionStoreOptions,
} from './options';
import { adoptExpressSessionStore } from './session-adoption';
import {
  cookieText,
  decodeEnvelope,
  encodeEnvelope,
  encodeSessionData,
  inflate,
  type SessionCookie,
  type SessionData,
} from './session-envelope';
import { followExpiry, requestedExpiry } from './session-expiry';

export type { SessionCookie, SessionData } from './session-envelope';

/** What `set`/`touch` accept: a `SessionData`, or express-session's / @fastify/session's session object. */
export type SessionInput = SessionData | { cookie?: SessionCookie | null };

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * What the store remembers about a session it read or wrote. `data` is the data JSON as read (or
 * last written) by this process: unchanged saves are recognised by it, and a merge-on-save can
 * diff against it. `writtenExpiry` is the latest backend expiry this process knows was written
 * (full write or touch); `knownExpiry` the latest one a save or touch asked for, written or
 * skipped by the lazy rule (the backend trails it by less than `touchAfter`).
 */
interface Tracked {
  data: string;
  writtenExpiry: number;
  knownExpiry: number;
}

const BACKEND_CODES = new Set(['E_BACKEND', 'E_TIMEOUT']);
const MAX_HOUR = 3_600_000;

/**
 * express-session store over any larder `Cache`. Sessions live under their own namespace of the
 * cache; the backend expiry follows the cookie. Writes are lazy: a `touch` or an unchanged `set`
 * only reaches the backend when it pushes the expiry forward by at least `touchAfter`, so `get`
 * judges liveness by the backend's TTL, not by the stored cookie (see `followExpiry`).
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
    adoptExpressSessionStore(CacheSessionStore, options.Store);
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

  /** Reads a session; calls back with `null` (no error) when there is none or it expired. */
  // biome-ignore lint/suspicious/noExplicitAny: the session type is express-session's or @fastify/session's
  get(sid: string, callback: (err?: unknown, session?: any) => void): void {
    this.respond(this.read(sid), callback);
  }

  /** Writes a session, unless its data is unchanged since it was read and its stored expiry is recent. */
  set(sid: string, session: SessionInput, callback: Callback = noop): void {
    this.respond(this.save(sid, session), callback);
  }

  /** Pushes the session's expiry forward (expiry only, no value rewrite) when that gains at least `touchAfter`. */
  touch(sid: string, session: SessionInput, callback: Callback = noop): void {
    this.respond(this.extend(sid, session), callback);
  }

  /** Deletes a session. */
  destroy(sid: string, callback: Callback = noop): void {
    this.respond(this.remove(sid), callback);
  }

  /** Lists every live session (needs a driver that can enumerate its keys). */
  // biome-ignore lint/suspicious/noExplicitAny: the session type is express-session's or @fastify/session's
  all(callback: (err?: unknown, sessions?: any) => void): void {
    this.respond(this.readAll(), callback);
  }

  /** Counts the sessions (needs a driver that can enumerate its keys). */
  length(callback: Callback<number>): void {
    this.respond(
      this.collect().then((ids) => ids.length),
      callback,
    );
  }

  /** Lists the session ids (needs a driver that can enumerate its keys). */
  ids(callback: Callback<string[]>): void {
    this.respond(this.collect(), callback);
  }

  /** Deletes every session, and only sessions (needs a driver that can clear its keys). */
  clear(callback: Callback = noop): void {
    this.respond(this.clearAll(), callback);
  }

  /** Stops the recovery probe (the cache itself belongs to the caller). */
  close(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  /**
   * Hands the outcome to the callback outside the promise chain (next tick), so an exception thrown
   * by the callback is an uncaught exception, as with express-session's MemoryStore, not an
   * unhandled rejection. Backend failures also mark the store down.
   */
  private respond<T>(outcome: Promise<T>, callback: Callback<T>): void {
    outcome.then(
      (value) => process.nextTick(callback, null, value),
      (err) => {
        if (isBackendError(err)) this.down();
        process.nextTick(callback, err);
      },
    );
  }

  private async read(sid: string): Promise<SessionData | null> {
    checkSid(sid);
    const stored = await this.guarded(sid, () => this.sessions.get<unknown>(sid));
    this.ok();
    if (stored === undefined) {
      this.tracked.delete(sid);
      return null;
    }
    const envelope = decodeEnvelope(stored, sid);
    const session = inflate(envelope, sid);
    const known = this.tracked.get(sid);
    const same = known !== undefined && known.data === envelope.data;
    const writtenExpiry = same ? Math.max(known.writtenExpiry, envelope.writtenExpiry) : envelope.writtenExpiry;
    const knownExpiry = same ? Math.max(known.knownExpiry, writtenExpiry) : writtenExpiry;
    // The backend holds it, so it is live; the cookie is given the latest expiry known (see followExpiry).
    if (!followExpiry(session, knownExpiry, Date.now())) {
      this.tracked.delete(sid);
      return null;
    }
    this.track(sid, { data: envelope.data, writtenExpiry, knownExpiry });
    return session;
  }

  private async save(sid: string, session: SessionInput): Promise<void> {
    checkSid(sid);
    checkSession(session);
    const { cookie, ...rest } = session;
    const now = Date.now();
    const expiresAt = requestedExpiry(cookie, now, this.options.ttlMs);
    const data = encodeSessionData(rest, sid);
    const ttl = expiresAt - now;
    // A cookie that already expired: the session is over.
    if (ttl <= 0) return this.remove(sid);
    const known = this.tracked.get(sid);
    if (known && known.data === data) {
      // Same data as read: at most an expiry push, never a value rewrite (which could undo a concurrent change).
      return this.push(sid, session, known, expiresAt);
    }
    const payload = encodeEnvelope({ writtenExpiry: expiresAt, cookie: cookieText(cookie), data });
    await this.guarded(sid, () => this.sessions.set(sid, payload, ttl));
    this.ok();
    this.track(sid, { data, writtenExpiry: expiresAt, knownExpiry: expiresAt });
  }

  private async extend(sid: string, session: SessionInput): Promise<void> {
    checkSid(sid);
    checkSession(session);
    const expiresAt = requestedExpiry(session.cookie, Date.now(), this.options.ttlMs);
    const known = this.tracked.get(sid);
    // Never read by this process: nothing to compare with, so write the expiry.
    if (!known) return this.writeExpiry(sid, session, undefined, expiresAt);
    return this.push(sid, session, known, expiresAt);
  }

  private async remove(sid: string): Promise<void> {
    checkSid(sid);
    this.tracked.delete(sid);
    await this.guarded(sid, () => this.sessions.delete(sid));
    this.ok();
  }

  /** Lazy rule: writes the expiry only when it gains at least `touchAfter` over the last one written; remembers it either way. */
  private async push(sid: string, session: SessionInput, known: Tracked, expiresAt: number): Promise<void> {
    if (expiresAt > known.knownExpiry) known.knownExpiry = expiresAt;
    if (expiresAt - known.writtenExpiry < this.touchAfter(expiresAt - Date.now())) return;
    return this.writeExpiry(sid, session, known, expiresAt);
  }

  private async writeExpiry(sid: string, session: SessionInput, known: Tracked | undefined, expiresAt: number) {
    const ttl = expiresAt - Date.now();
    if (ttl <= 0) return;
    let found: boolean;
    try {
      found = await this.guarded(sid, () => this.sessions.touch(sid, ttl));
    } catch (err) {
      if (!(err instanceof UnsupportedOperationError)) throw err;
      // A driver without an expiry-only write: fall back to rewriting the session.
      this.tracked.delete(sid);
      return this.save(sid, session);
    }
    this.ok();
    if (found && known) {
      this.track(sid, {
        data: known.data,
        writtenExpiry: expiresAt,
        knownExpiry: Math.max(known.knownExpiry, expiresAt),
      });
    }
  }

  private async readAll(): Promise<SessionData[]> {
    const ids = await this.collect();
    const sessions: SessionData[] = [];
    const now = Date.now();
    for (const sid of ids) {
      const stored = await this.sessions.get<unknown>(sid);
      if (stored === undefined) continue;
      const envelope = decodeEnvelope(stored, sid);
      const session = inflate(envelope, sid);
      const known = this.tracked.get(sid);
      const knownExpiry = known?.data === envelope.data ? known.knownExpiry : envelope.writtenExpiry;
      if (followExpiry(session, Math.max(knownExpiry, envelope.writtenExpiry), now)) {
        sessions.push(Object.assign(session, { id: sid }));
      }
    }
    return sessions;
  }

  private async clearAll(): Promise<void> {
    await this.requireEnumeration('clear');
    await this.sessions.clear();
    this.tracked.clear();
    this.ok();
  }

  /** Minimum expiry gain worth a backend write, for a session living `lifetimeMs`. */
  private touchAfter(lifetimeMs: number): number {
    if (this.options.touchAfterMs !== undefined) return this.options.touchAfterMs;
    return Math.min(MAX_HOUR, Math.max(0, lifetimeMs) / 10);
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

/** Session ids are non-empty strings (a number or an object is a caller bug, not a key). */
function checkSid(sid: unknown): asserts sid is string {
  if (typeof sid !== 'string' || sid === '') {
    throw new InvalidKeyError(`A session id must be a non-empty string, got ${describe(sid)}`, sid);
  }
}

function checkSession(session: unknown): asserts session is SessionInput {
  if (typeof session !== 'object' || session === null || Array.isArray(session)) {
    throw new InvalidArgumentError(`A session must be an object, got ${describe(session)}`, 'session');
  }
}

function isBackendError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && BACKEND_CODES.has(code);
}
