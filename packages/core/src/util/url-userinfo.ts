import { ConfigError } from '../contract/errors';

/**
 * URLs with credentials, taken apart by hand rather than by a pattern over the userinfo: a
 * pattern that stops at `/` or at the first `@` prints the rest of a password that contains
 * one (`redis://u:Pa/ss@host` printed `Pa/ss`). The userinfo is everything between `//` and the
 * LAST `@`; if it holds a character that cannot stand unencoded there, the URL is ambiguous, so
 * configs refuse it and redaction hides all of it.
 */

/** What a URL's userinfo must not contain unencoded (RFC 3986 §3.2.1; `\` is `/` to WHATWG parsers). */
export const USERINFO_RULE =
  "its user:password part may not contain '/', '?', '#', '@', '[', ']', '\\', spaces or control characters, " +
  "nor a '%' not followed by two hex digits: percent-encode the password (encodeURIComponent)";

/** `scheme://[userinfo@]rest`, the userinfo ending at the last `@`. */
export interface UrlParts {
  /** Scheme with its `://`, e.g. `redis://`. */
  scheme: string;
  /** Everything between `//` and the last `@`; undefined when there is no `@`. */
  userinfo: string | undefined;
  /** Host, port, path, query and fragment. */
  rest: string;
}

/** Splits a URL at its scheme and its last `@`; undefined when `text` does not start with `scheme://`. */
export function splitUrl(text: string): UrlParts | undefined {
  const scheme = schemeLength(text, 0);
  if (scheme === 0) return undefined;
  const after = text.slice(scheme);
  const at = after.lastIndexOf('@');
  if (at === -1) return { scheme: text.slice(0, scheme), userinfo: undefined, rest: after };
  return { scheme: text.slice(0, scheme), userinfo: after.slice(0, at), rest: after.slice(at + 1) };
}

/** Length of `scheme://` at `start` of `text` (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`), else 0. */
export function schemeLength(text: string, start: number): number {
  if (!isLetter(text.charCodeAt(start))) return 0;
  let i = start + 1;
  while (i < text.length && isSchemeChar(text.charCodeAt(i))) i++;
  return text.startsWith('://', i) ? i + 3 - start : 0;
}

/** True when `userinfo` can stand in a URL as it is (every other character may, as parsers accept it). */
export function isValidUserinfo(userinfo: string): boolean {
  for (let i = 0; i < userinfo.length; i++) {
    const code = userinfo.charCodeAt(i);
    if (code === 0x25 /* % */) {
      if (!isHex(userinfo.charCodeAt(i + 1)) || !isHex(userinfo.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (code <= 0x20 || code === 0x7f || '/?#@[]\\'.includes(userinfo[i] as string)) {
      return false;
    }
  }
  return true;
}

/**
 * Refuses a URL whose userinfo is not valid with a `ConfigError` that shows no part of it (not
 * even the host: the password may run into it). Configs from the environment and from code both
 * go through here before the URL is parsed or printed.
 */
export function checkUrlUserinfo(url: string, variable: string): void {
  const parts = splitUrl(url);
  if (parts?.userinfo !== undefined && !isValidUserinfo(parts.userinfo)) {
    throw new ConfigError(`Invalid ${variable}: ${USERINFO_RULE}. The value is not shown: it holds a secret`, variable);
  }
}

const isLetter = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isSchemeChar = (c: number) => isLetter(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
