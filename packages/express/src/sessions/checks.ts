import { InvalidArgumentError, InvalidKeyError } from '@larder/core';
import { describe } from '@larder/core/driver';
import type { SessionCookie, SessionData } from './envelope';

/** What `set`/`touch` accept: a `SessionData`, or express-session's / @fastify/session's session object. */
export type SessionInput = SessionData | { cookie?: SessionCookie | null };

/** Session ids are non-empty strings (a number or an object is a caller bug, not a key). */
export function checkSid(sid: unknown): asserts sid is string {
  if (typeof sid !== 'string' || sid === '') {
    throw new InvalidKeyError(`A session id must be a non-empty string, got ${describe(sid)}`, sid);
  }
}

/** Sessions are plain objects. */
export function checkSession(session: unknown): asserts session is SessionInput {
  if (typeof session !== 'object' || session === null || Array.isArray(session)) {
    throw new InvalidArgumentError(`A session must be an object, got ${describe(session)}`, 'session');
  }
}
