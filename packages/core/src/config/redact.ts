/**
 * Secret redaction for error messages, logs and the CLI. Passwords in URLs, `*_PASSWORD`,
 * `*_SECRET*`, `*_TOKEN` values and `password`-like config fields never leave the process in
 * clear text.
 */

/** What replaces a secret. */
export const REDACTED = '***';

const SECRET_NAME = /pass(word)?|secret|token|credential|private_?key|access_?key|auth/i;
// scheme://userinfo@ — userinfo cannot contain '/', '@' or whitespace.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;
// user:password@host without a scheme (host lists such as REDIS_SENTINELS).
const BARE_USERINFO = /(^|[\s,;='"(])([^\s@/,;'":]*):[^\s@/,;'"]*@/g;
const SECRET_QUERY = /([?&](?:password|pass|pwd|token|secret|auth|access_key)=)[^&#\s]*/gi;

/** True for variable or field names that hold secrets (`REDIS_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, `password`...). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Replaces the password of every URL in `text` (`redis://user:pw@host` -> `redis://user:***@host`;
 * a lone userinfo, which some clients read as a password, becomes `***`) and secret query parameters.
 */
export function redactText(text: string): string {
  return text
    .replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon === -1 ? `${scheme}${REDACTED}@` : `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
    })
    .replace(BARE_USERINFO, `$1$2:${REDACTED}@`)
    .replace(SECRET_QUERY, `$1${REDACTED}`);
}

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
