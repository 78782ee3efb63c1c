import { type Cache, InvalidArgumentError, isLarderError, type Ttl } from '@larder/core';
import { RecentMap } from '@larder/core/driver';
import { borrowedStoreMethods, SessionStoreBase, type StoreMethods } from './base';
import { checkSession, checkSid, type SessionInput } from './checks';
import { cookieText, decodeEnvelope, encodeEnvelope, encodeSessionData, inflate, type SessionData } from './envelope';
import { followExpiry, requestedExpiry } from './expiry';
import { listIds, readSessions, requireEnumeration } from './listing';
import { lockOf, type SessionLockHandle } from './lock';
import { attachBase, baseOf, type MergeBackend, type ReadBase, saveMerged } from './merge';
import { type ResolvedSessionStoreOptions, resolveSessionStoreOptions, type SessionStoreOptions } from './options';
import { UserIndex } from './users';

export type { SessionInput } from './checks';
export type { SessionCookie, SessionData } from './envelope';

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * What the store remembers about a session it read or wrote. `data` is the data JSON as read (or
 * last written) by this process: unchanged saves are recognised by it, and a merge-on-save can
 * diff against it. `writtenExpiry` is the latest backend expiry this process knows was written
 * (full write or touch); `knownExpiry` the latest one a save or touch asked for, written or
 * skipped by the lazy rule (the backend trails it by less than `touchAfter`).
 */
interface Tracked {
  /** The envelope as read or written (the expected value of the next compare-and-set). */
  stored: string | Uint8Array;
  data: string;
  writtenExpiry: number;
  knownExpiry: number;
  /** Destroyed by this process: a save with nothing read stays a no-op (no resurrection). */
  gone?: boolean;
}

const MAX_HOUR = 3_600_000;

/**
 * express-session store over any larder `Cache`. Sessions live under their own namespace of the
 * cache; the backend expiry follows the cookie. Writes are lazy: a `touch` or an unchanged `set`
 * only reaches the backend when it pushes the expiry forward by at least `touchAfter`, so `get`
 * judges liveness by the backend's TTL, not by the stored cookie (see `followExpiry`).
 * Errors always go to the callback (sessions fail closed); `disconnect`/`connect` tell
 * express-session when the backend is down and back: the cache's `down` and `up` (`Cache.health`).
 */
export class CacheSessionStore extends SessionStoreBase {
  private readonly options: ResolvedSessionStoreOptions;
  private readonly sessions: Cache;
  // Half of `maxTracked` per generation: at most `maxTracked` held (see `RecentMap`).
  private readonly tracked: RecentMap<string, Tracked>;
  // express-session stops calling a disconnected store: the cache's health probes the backend meanwhile.
  private readonly onDown = () => this.emit('disconnect');
  private readonly onUp = () => this.emit('connect');

  // Inherited from express-session's Store when it is the base class (see base.ts), else
  // borrowed from the `Store` option; typed loosely so this class fits express-session's `Store`
  // type without depending on its types.
  /** Replaces the request's session with a new one (express-session's Store). */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Request type is not a dependency
  declare regenerate: (req: any, callback: (err?: any) => any) => void;
  /** Loads a session and builds a Session object for the request (express-session's Store). */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Session type is not a dependency
  declare load: (sid: string, callback: (err: any, session?: any) => any) => void;
  private readonly users: UserIndex | undefined;
  private readonly merge: MergeBackend;
  /** express-session's `createSession`, which ours wraps (inherited or borrowed). */
  private readonly storeCreateSession: StoreMethods['createSession'];

  constructor(options: SessionStoreOptions) {
    super();
    this.options = resolveSessionStoreOptions(options);
    this.tracked = new RecentMap(Math.max(1, Math.ceil(this.options.maxTracked / 2)));
    this.sessions = this.options.cache.namespace(this.options.prefix);
    const borrowed = borrowedStoreMethods(this, options.Store);
    if (borrowed.regenerate) this.regenerate = borrowed.regenerate;
    if (borrowed.load) this.load = borrowed.load;
    this.storeCreateSession = borrowed.createSession ?? (SessionStoreBase.prototype as StoreMethods).createSession;
    const { cache, userKey, prefix } = this.options;
    this.users =
      userKey === undefined ? undefined : new UserIndex(cache.namespace(`${prefix}-user`), this.sessions, userKey);
    this.merge = {
      read: (sid) => this.sessions.get(sid),
      compareAndSet: (sid, expected, payload, ttlMs) => this.sessions.compareAndSet(sid, expected, payload, ttlMs),
    };
    cache.on('down', this.onDown);
    cache.on('up', this.onUp);
  }

  /** False while the cache's health says the backend is down (`Cache.health()`). */
  get connected(): boolean {
    return this.options.cache.health().state === 'up';
  }

  /**
   * Builds express-session's Session object from stored data (express-session's Store), keeping
   * the version it was read at (not copied by its for-in), so the save merges onto it.
   */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Request and Session types are not dependencies
  createSession(req: any, session: any): any {
    const base = session && typeof session === 'object' ? baseOf(session) : undefined;
    const created = this.storeCreateSession ? this.storeCreateSession.call(this, req, session) : session;
    if (base && created && typeof created === 'object') attachBase(created, base);
    return created;
  }

  /** Live session ids of a user (needs the `userKey` option); checked against the sessions, across instances. */
  async sessionsOf(userId: string | number): Promise<string[]> {
    return this.userIndex().sessionsOf(String(userId));
  }

  /** Destroys every session of a user (needs `userKey`), on every instance; resolves how many were destroyed. */
  async destroyUser(userId: string | number): Promise<number> {
    const users = this.userIndex();
    const ids = await users.sessionsOf(String(userId));
    await Promise.all(ids.map((sid) => this.remove(sid)));
    await users.remove(String(userId), ids);
    return ids.length;
  }

  /** The cross-instance lock of one session (what `sessionLock` holds), named `session-lock:<sid>` in the cache. */
  lockSession(sid: string, ttl: Ttl): SessionLockHandle {
    checkSid(sid);
    return lockOf(this.options.cache, sid, ttl);
  }

  private userIndex(): UserIndex {
    if (!this.users) throw new InvalidArgumentError('sessionsOf/destroyUser need the userKey option', 'userKey');
    return this.users;
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

  /** Stops listening to the cache's health (the cache itself belongs to the caller). */
  close(): void {
    this.options.cache.off('down', this.onDown);
    this.options.cache.off('up', this.onUp);
  }

  /**
   * Hands the outcome to the callback outside the promise chain (next tick), so an exception thrown
   * by the callback is an uncaught exception, as with express-session's MemoryStore, not an
   * unhandled rejection.
   */
  private respond<T>(outcome: Promise<T>, callback: Callback<T>): void {
    outcome.then(
      (value) => process.nextTick(callback, null, value),
      (err) => process.nextTick(callback, err),
    );
  }

  private async read(sid: string): Promise<SessionData | null> {
    checkSid(sid);
    const stored = await this.sessions.get<unknown>(sid);
    if (stored === undefined) {
      if (!this.tracked.get(sid)?.gone) this.tracked.delete(sid);
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
    const as = stored as string | Uint8Array; // decodeEnvelope accepted it: text, or bytes from 0.x
    this.track(sid, { stored: as, data: envelope.data, writtenExpiry, knownExpiry });
    attachBase(session, { stored: as, data: envelope.data });
    return session;
  }

  private async save(sid: string, session: SessionInput, force = false): Promise<void> {
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
    // The version this request read (attached to its session object), else the latest this process knows.
    const base: ReadBase | undefined = baseOf(session) ?? (known?.gone ? undefined : known);
    if (base === undefined && known?.gone) return; // destroyed here: never brought back
    if (!force && base !== undefined && base.data === data) {
      // Same data as read: at most an expiry push, never a value rewrite (which could undo a concurrent change).
      if (!known || known.gone) return this.writeExpiry(sid, session, undefined, expiresAt);
      return this.push(sid, session, known, expiresAt);
    }
    const written = await this.write(sid, base, data, cookieText(cookie), expiresAt, ttl);
    if (!written) {
      // Read before it was destroyed or regenerated: it stays gone.
      this.tracked.delete(sid);
      return;
    }
    attachBase(session, written);
    this.track(sid, { stored: written.stored, data: written.data, writtenExpiry: expiresAt, knownExpiry: expiresAt });
    await this.indexUser(sid, rest, expiresAt, ttl);
  }

  /** A full write: merged by compare-and-set when the cache has it (see merge.ts), else a plain set. */
  private async write(
    sid: string,
    base: ReadBase | undefined,
    data: string,
    cookie: string,
    expiresAt: number,
    ttl: number,
  ): Promise<ReadBase | undefined> {
    if (typeof this.sessions.compareAndSet === 'function') {
      return saveMerged(this.merge, sid, base, data, cookie, expiresAt, ttl);
    }
    const stored = encodeEnvelope({ writtenExpiry: expiresAt, cookie, data });
    await this.sessions.set(sid, stored, ttl);
    return { stored, data };
  }

  /** Makes the user index (with `userKey`) cover this session until `expiresAt`. */
  private async indexUser(sid: string, data: object, expiresAt: number, ttl: number): Promise<void> {
    const user = this.users?.userOf(data as Record<string, unknown>);
    if (user !== undefined) await (this.users as UserIndex).add(user, sid, expiresAt, ttl);
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
    if (this.options.maxTracked > 0)
      this.track(sid, { stored: '', data: '', writtenExpiry: 0, knownExpiry: 0, gone: true });
    await this.sessions.delete(sid);
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
      found = await this.sessions.touch(sid, ttl);
    } catch (err) {
      if (!isLarderError(err, 'E_UNSUPPORTED_OPERATION')) throw err;
      // A driver without an expiry-only write: fall back to rewriting the session (merged onto what this request read).
      return this.save(sid, session, true);
    }
    if (found) await this.indexUser(sid, session, expiresAt, ttl);
    if (found && known) {
      this.track(sid, {
        stored: known.stored,
        data: known.data,
        writtenExpiry: expiresAt,
        knownExpiry: Math.max(known.knownExpiry, expiresAt),
      });
    }
  }

  private async readAll(): Promise<SessionData[]> {
    const ids = await this.collect();
    return readSessions(this.sessions, ids, (sid, data) => {
      const known = this.tracked.get(sid);
      return known?.data === data ? known.knownExpiry : undefined;
    });
  }

  private async clearAll(): Promise<void> {
    await requireEnumeration(this.options.cache, 'clear');
    await this.sessions.clear();
    this.tracked.clear();
  }

  /** Minimum expiry gain worth a backend write, for a session living `lifetimeMs`. */
  private touchAfter(lifetimeMs: number): number {
    if (this.options.touchAfterMs !== undefined) return this.options.touchAfterMs;
    return Math.min(MAX_HOUR, Math.max(0, lifetimeMs) / 10);
  }

  private track(sid: string, entry: Tracked): void {
    if (this.options.maxTracked === 0) return;
    this.tracked.set(sid, entry);
  }

  private collect(): Promise<string[]> {
    return listIds(this.options.cache, this.sessions);
  }
}

function noop(): void {}
