import { SerializationError } from '@larder/core';
import { jsonRefusal } from '@larder/core/driver';

/** A session as express-session and @fastify/session hand it to a store: data plus a `cookie`. */
export interface SessionData {
  cookie?: SessionCookie | null;
  [key: string]: unknown;
}

/** The cookie fields the store reads (express-session's and @fastify/session's Cookie both fit). */
export interface SessionCookie {
  expires?: Date | string | null;
  maxAge?: number | null;
  originalMaxAge?: number | null;
  toJSON?(): unknown;
}

/**
 * What is cached per session, as text: `<writtenExpiry>\n<cookie JSON>\n<data JSON>`.
 * `writtenExpiry` is the expiry (epoch ms) the backend was given at the last full write: a lower
 * bound, since a lazy touch pushes the backend expiry without rewriting the value. The data
 * excludes the cookie so `set` can compare it with what `get` read. JSON never contains a raw
 * newline, so the lines split safely. Text, not bytes: the codec's string path costs less than
 * copying bytes through its binary marker (measured, bench/README.md). Bytes written by earlier
 * versions still read.
 */
export interface Envelope {
  /** Backend expiry at the last full write (epoch ms). */
  writtenExpiry: number;
  /** The cookie as JSON text (`null` for a session stored without one). */
  cookie: string;
  /** The session data, cookie excluded, as JSON text. */
  data: string;
}

/** The stored text of an envelope. */
export function encodeEnvelope(envelope: Envelope): string {
  return `${envelope.writtenExpiry}\n${envelope.cookie}\n${envelope.data}`;
}

/** Parses a stored envelope; a value that is not one is a `SerializationError` (never read as "no session"). */
export function decodeEnvelope(value: unknown, sid: string): Envelope {
  let text: string;
  if (value instanceof Uint8Array)
    text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  else if (typeof value === 'string')
    text = value; // a custom codec may hand bytes back as text
  else throw corrupt(sid, `a value of type ${value === null ? 'null' : typeof value}`);
  const first = text.indexOf('\n');
  const second = first < 0 ? -1 : text.indexOf('\n', first + 1);
  if (second < 0) throw corrupt(sid, 'text without the three envelope lines');
  const writtenExpiry = Number(text.slice(0, first));
  if (!Number.isFinite(writtenExpiry)) throw corrupt(sid, 'an expiry that is not a number');
  return { writtenExpiry, cookie: text.slice(first + 1, second), data: text.slice(second + 1) };
}

/** The session object express-session / @fastify/session get back (no `cookie` key when none was stored). */
export function inflate(envelope: Envelope, sid: string): SessionData {
  let data: unknown;
  let cookie: unknown;
  try {
    data = JSON.parse(envelope.data);
    cookie = JSON.parse(envelope.cookie);
  } catch (err) {
    throw corrupt(sid, 'JSON that does not parse', err);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw corrupt(sid, 'data that is not an object');
  if (cookie !== null) (data as SessionData).cookie = cookie as SessionCookie;
  return data as SessionData;
}

function corrupt(sid: string, what: string, cause?: unknown): SerializationError {
  return new SerializationError(`Stored session '${sid}' is not a session envelope (${what}); left as it is`, sid, {
    cause,
  });
}

/** The session data as JSON text; data JSON would drop or refuse (functions, symbols, BigInt, cycles) is a `SerializationError`. */
export function encodeSessionData(data: Record<string, unknown>, sid: string): string {
  // The JSON walker core's codec uses too, in plain JSON's dialect (BigInt refused, `toJSON` honoured).
  const problem = jsonRefusal(data, 'json');
  if (problem !== undefined) {
    const what = problem.what === 'cycle' ? 'a circular reference' : `a ${problem.what}`;
    throw new SerializationError(`Cannot store session '${sid}': ${what} at ${problem.path || 'the top'}`, sid);
  }
  return JSON.stringify(data);
}

/** The cookie as JSON text (what `JSON.stringify(cookie)` gives); an invalid Date becomes `null`. */
export function cookieText(cookie: SessionCookie | null | undefined): string {
  if (!cookie) return 'null';
  const json = (typeof cookie.toJSON === 'function' ? cookie.toJSON() : cookie) as Record<string, unknown>;
  const expires = json.expires;
  if (!(expires instanceof Date)) return JSON.stringify(json);
  // JSON.stringify reaches Date#toJSON through a slow generic path: hand it the ISO string (in a copy).
  return JSON.stringify({ ...json, expires: Number.isNaN(expires.getTime()) ? null : expires.toISOString() });
}
