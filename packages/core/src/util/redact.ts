import { isValidUserinfo, schemeLength, splitUrl } from './url-userinfo';

/**
 * Secret redaction for error messages, logs and the CLI. Passwords in URLs, `*_PASSWORD`,
 * `*_SECRET*`, `*_TOKEN` values and `password`-like config fields never leave the process in
 * clear text.
 */

/** What replaces a secret. */
export const REDACTED = '***';

const SECRET_NAME =
  /pass(word)?|secret|token|credential|private_?key|access_?key|encryption_?keys?|hash_?keys|^encrypt$|auth/i;
const SECRET_QUERY = new Set(['password', 'pass', 'pwd', 'token', 'secret', 'auth', 'access_key']);
// Word separators for `user:password@host` outside URLs (host lists such as REDIS_SENTINELS).
const WORD_SEPARATORS = /([\s,;='"()<>`]+)/;

/** True for variable or field names that hold secrets (`REDIS_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, `password`...). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Replaces the password of every URL in `text` (`redis://user:pw@host` -> `redis://user:***@host`;
 * a lone userinfo, which some clients read as a password, becomes `***`; a userinfo that is not
 * valid (an unencoded `/`, `@`, space...) is hidden whole), secret query parameters, and the
 * password of `user:password@host` words. URLs are taken apart by parsing (see url-userinfo.ts),
 * never by a pattern over the userinfo.
 */
export function redactText(text: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const start = nextUrl(text, from);
    if (start === -1) return out + redactWords(text.slice(from));
    const end = brokenUserinfoEnd(text, start, urlEnd(text, start));
    out += redactWords(text.slice(from, start)) + redactUrl(text.slice(start, end));
    from = end;
  }
}

/** One URL with its password and secret query parameters replaced (see `redactText`). */
export function redactUrl(url: string): string {
  const parts = splitUrl(url);
  if (!parts) return url;
  const rest = redactQuery(parts.rest);
  if (parts.userinfo === undefined) return parts.scheme + rest;
  const colon = parts.userinfo.indexOf(':');
  if (colon === -1 || !isValidUserinfo(parts.userinfo)) return `${parts.scheme}${REDACTED}@${rest}`;
  return `${parts.scheme}${parts.userinfo.slice(0, colon)}:${REDACTED}@${rest}`;
}

/** Index of the next `scheme://` at or after `from`, else -1. */
function nextUrl(text: string, from: number): number {
  for (let slashes = text.indexOf('://', from); slashes !== -1; slashes = text.indexOf('://', slashes + 3)) {
    let start = slashes;
    while (start > from && isSchemeChar(text.charCodeAt(start - 1))) start--;
    // The scheme starts at its first letter (`3redis://` names `redis://`).
    while (start < slashes && schemeLength(text, start) === 0) start++;
    if (start < slashes) return start;
  }
  return -1;
}

/** End of the URL starting at `start`: whitespace, a quote or bracket, or a comma before another `scheme://`. */
function urlEnd(text: string, start: number): number {
  return tokenEnd(text, start + schemeLength(text, start));
}

/** End of the token at `from` (see `urlEnd`). */
function tokenEnd(text: string, from: number): number {
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x22 || c === 0x27 || c === 0x60 || c === 0x3c || c === 0x3e) break;
    if (c === 0x2c && schemeLength(text, i + 1) > 0) break;
  }
  return i;
}

/**
 * A password with a space ends the URL early (`redis://u:pa ss@host` reads as `redis://u:pa`): when
 * what ended has no `@` and a "port" that is not a number, the URL runs on to the next word with an
 * `@` (at most 4 words on), so the whole userinfo is found, and hidden as not valid.
 */
function brokenUserinfoEnd(text: string, start: number, end: number): number {
  const authority = text.slice(start + schemeLength(text, start), end);
  const colon = authority.lastIndexOf(':');
  if (authority.includes('@') || /[/?#]/.test(authority) || colon === -1) return end;
  if (/^\d*$/.test(authority.slice(colon + 1))) return end;
  let next = end;
  for (let words = 0; words < 4 && /^[ \t]/.test(text.slice(next)); words++) {
    while (text[next] === ' ' || text[next] === '\t') next++;
    const wordEnd = tokenEnd(text, next);
    if (text.slice(next, wordEnd).includes('://')) return end;
    if (text.slice(next, wordEnd).includes('@')) return wordEnd;
    next = wordEnd;
  }
  return end;
}

/** `?a=1&password=x#f` with the values of secret parameters replaced. */
function redactQuery(rest: string): string {
  const question = rest.indexOf('?');
  if (question === -1) return rest;
  const hash = rest.indexOf('#', question);
  const query = rest.slice(question + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      return equals !== -1 && isSecretParameter(name) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${rest.slice(0, question + 1)}${redacted}${hash === -1 ? '' : rest.slice(hash)}`;
}

function isSecretParameter(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // a bad escape in a parameter name: judge it as written
  }
  return SECRET_QUERY.has(decoded.toLowerCase()) || isSecretName(decoded);
}

/** `user:password@host` words (no scheme) with the password replaced. */
function redactWords(text: string): string {
  if (!text.includes('@')) return text;
  return text
    .split(WORD_SEPARATORS)
    .map((word) => {
      const at = word.lastIndexOf('@');
      if (at === -1) return word;
      const userinfo = word.slice(0, at);
      const colon = userinfo.indexOf(':');
      if (colon === -1 || userinfo.slice(0, colon).includes('/')) return word;
      return `${userinfo.slice(0, colon)}:${REDACTED}@${word.slice(at + 1)}`;
    })
    .join('');
}

const isSchemeChar = (c: number) =>
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x30 && c <= 0x39) ||
  c === 0x2b ||
  c === 0x2d ||
  c === 0x2e;

/** Redacts one environment value: wholly when the variable's name is secret, else the URL passwords in it. */
export function redactEnvValue(name: string, value: string): string {
  if (isSecretName(name)) return REDACTED;
  return redactText(value);
}

/** Deep copy of a config object with secret fields replaced and URL passwords redacted. */
export function redactConfig<T>(value: T): T {
  return redactDeep(value, new WeakMap()) as T;
}

function redactDeep(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(redactDeep(item, seen));
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  // Class instances (clients, stores, codecs) are shown by name only, never walked.
  if (proto !== Object.prototype && proto !== null) return `[${value.constructor?.name ?? 'object'}]`;
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) {
    copy[key] =
      isSecretName(key) && item !== undefined && typeof item !== 'boolean' ? REDACTED : redactDeep(item, seen);
  }
  return copy;
}
