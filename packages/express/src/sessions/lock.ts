import { type Cache, ConfigError, isLarderError, LarderError, type Ttl, UnsupportedOperationError } from '@larder/core';
import { parseTtl } from '@larder/core/driver';
import { baseOf } from './merge';

/** The lock of one session: the part of `@larder/core`'s `Lock` the middleware uses. */
export interface SessionLockHandle {
  acquire(): Promise<boolean>;
  block(wait: Ttl): Promise<void>;
  release(): Promise<boolean>;
}

/** `sessionLock` waited `wait` for another request of the same session to finish. Answers 503. */
export class SessionLockTimeoutError extends LarderError {
  /** HTTP status for error handlers (express reads `status`). */
  readonly status = 503;
  /** Same, for handlers that read `statusCode`. */
  readonly statusCode = 503;

  constructor(
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    // The session id is a bearer secret: it is not part of the message.
    super('E_SESSION_LOCK_TIMEOUT', `Another request held this session's lock for more than ${waitedMs} ms`, options);
  }
}

/** The cache lock `session-lock:<sid>`; `UnsupportedOperationError` for a cache without `lock()`. */
export function lockOf(cache: Cache, sid: string, ttl: Ttl): SessionLockHandle {
  if (typeof cache.lock !== 'function') {
    throw new UnsupportedOperationError('sessionLock', 'session', 'the cache has no lock() (use a @larder/core Cache)');
  }
  return cache.lock(`session-lock:${sid}`, ttl);
}

/** Options of `sessionLock`. */
export interface SessionLockOptions {
  /** The session store (its cache holds the locks). */
  store: { lockSession(sid: string, ttl: Ttl): SessionLockHandle };
  /** Longest wait for the lock before `next(SessionLockTimeoutError)`. @default '5s' */
  wait?: Ttl;
  /** Longest hold: a crashed instance's lock frees itself after this. @default '30s' */
  ttl?: Ttl;
}

interface LockRequest {
  sessionID?: string;
  session?: { id?: string; reload?(callback: (err?: unknown) => void): unknown };
}

interface LockResponse {
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * Middleware (mount after `session()`) that serializes the requests of one session across app
 * instances: it holds the cache lock `session-lock:<sid>` from here until the response has
 * finished (after express-session's save) or the connection closed. Once it holds the lock it
 * reloads the session, so the request sees the previous holder's write. A wait past `wait` calls
 * `next(err)` with `SessionLockTimeoutError` (`E_SESSION_LOCK_TIMEOUT`, status 503).
 */
export function sessionLock(options: SessionLockOptions) {
  if (typeof options?.store?.lockSession !== 'function') {
    throw new ConfigError('sessionLock needs { store }: a CacheSessionStore', 'store');
  }
  const { store } = options;
  const waitMs = parseTtl(options.wait ?? '5s');
  const ttlMs = parseTtl(options.ttl ?? '30s');
  return (req: LockRequest, res: LockResponse, next: (err?: unknown) => void): void => {
    const sid = req.sessionID ?? req.session?.id;
    if (typeof sid !== 'string' || sid === '') {
      next();
      return;
    }
    let lock: SessionLockHandle;
    try {
      lock = store.lockSession(sid, ttlMs);
    } catch (error) {
      next(error);
      return;
    }
    lock.block(waitMs).then(
      () => {
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          // The lock frees itself after `ttl` anyway: a failed release only delays the next request.
          lock.release().catch(() => {});
        };
        res.once('finish', release);
        res.once('close', release);
        reload(req, next);
      },
      (error: unknown) =>
        next(isLarderError(error, 'E_LOCK_TIMEOUT') ? new SessionLockTimeoutError(waitMs, { cause: error }) : error),
    );
  };
}

/** Reads the session again under the lock (only one that was read from the store: a new one has nothing newer). */
function reload(req: LockRequest, next: (err?: unknown) => void): void {
  const session = req.session;
  if (!session || typeof session.reload !== 'function' || baseOf(session) === undefined) {
    next();
    return;
  }
  session.reload((err?: unknown) => {
    // Gone meanwhile (destroyed by the previous holder): the request goes on, and its save writes nothing.
    next(err instanceof Error && err.message === 'failed to load session' ? undefined : err);
  });
}
