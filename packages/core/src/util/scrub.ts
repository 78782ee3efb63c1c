/**
 * Scrubbing of backend errors: a driver wraps a client's error as the `cause` of its own, and
 * the client's error may carry credentials (in its message, a field, or an attached request).
 * The copy made here keeps what helps debugging and replaces every known secret by `***`.
 */
import { REDACTED, redactText } from './redact';

const MAX_DEPTH = 5;

/** The secrets worth scrubbing: strings of at least `minLength` characters, each once, longest first (so a secret containing another is replaced whole). */
export function secretList(found: readonly unknown[], minLength: number): string[] {
  const secrets = new Set<string>();
  for (const secret of found) if (typeof secret === 'string' && secret.length >= minLength) secrets.add(secret);
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with each of `secrets` replaced by `***` (and, with `redactUrls`, every URL password; see `redactText`). */
export function scrubText(text: string, secrets: readonly string[], redactUrls = false): string {
  let out = redactUrls ? redactText(text) : text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** What a driver adds to `scrubError`'s copy. */
export interface ScrubErrorOptions {
  /** Own fields never copied, even primitive ones (e.g. a command's arguments). */
  drop?: ReadonlySet<string>;
  /** Also replace URL passwords in every string (see `redactText`). @default false */
  redactUrls?: boolean;
  /** Copies the driver's known-safe object fields onto `copy` (primitive fields are copied already); `scrub` scrubs text. */
  keep?(error: Error, copy: Record<string, unknown>, scrub: (text: string) => string): void;
  /** What a thrown value that is not an Error becomes. @default an Error of its scrubbed text */
  nonError?(value: unknown, scrub: (text: string) => string): unknown;
  /** Also scrub an AggregateError's `errors`. @default false */
  aggregate?: boolean;
}

/**
 * A copy of a client error that is safe to show: same name, message, stack and primitive fields
 * (`code`, `errno`, `syscall`…) with every secret replaced by `***`, its `cause` scrubbed the same
 * way (5 levels deep); object fields (a client's request, its options) are dropped unless the
 * driver's `keep` copies them.
 */
export function scrubError<E = Error>(
  error: unknown,
  secrets: readonly string[],
  options: ScrubErrorOptions = {},
  depth = 0,
): E {
  const scrub = (text: string) => scrubText(text, secrets, options.redactUrls);
  if (!(error instanceof Error)) {
    return (options.nonError ? options.nonError(error, scrub) : new Error(scrub(String(error)))) as E;
  }
  const copy = new Error(scrub(error.message));
  Object.defineProperty(copy, 'name', { value: error.name, enumerable: false, writable: true, configurable: true });
  copy.stack = scrub(error.stack ?? `${error.name}: ${error.message}`);
  const fields = copy as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(error)) {
    if (key === 'message' || key === 'stack' || key === 'cause' || options.drop?.has(key)) continue;
    if (typeof value === 'string') fields[key] = scrub(value);
    else if (typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  options.keep?.(error, fields, scrub);
  if (depth < MAX_DEPTH) {
    if (error.cause !== undefined) copy.cause = scrubError(error.cause, secrets, options, depth + 1);
    const errors = (error as { errors?: unknown }).errors;
    if (options.aggregate && Array.isArray(errors)) {
      fields.errors = errors.map((e) => scrubError(e, secrets, options, depth + 1));
    }
  }
  return copy as E;
}
