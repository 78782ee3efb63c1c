import { REDACTED } from '@larder/core';

const MAX_DEPTH = 5;
const MIN_SECRET_LENGTH = 3;

/** The SASL credentials to keep out of errors, longest first (a secret containing another is replaced whole). */
export function secretsOf(options: { username?: string | undefined; password?: string | undefined }): string[] {
  const found = [options.password, options.username].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH,
  );
  return [...new Set(found)].sort((a, b) => b.length - a.length);
}

/**
 * A copy of a transport error that is safe to show: same name, message, stack and primitive fields
 * (`code`, `errno`, `syscall`, `address`, `port`…) with every credential replaced by `***`, its
 * `cause` scrubbed the same way; object fields (a client's request, its options) are dropped. An
 * injected client, or a future memjs, may attach its SASL frame or options to an error.
 */
export function scrubError(error: unknown, secrets: readonly string[], depth = 0): Error {
  if (!(error instanceof Error)) return new Error(scrubText(String(error), secrets));
  const copy = new Error(scrubText(error.message, secrets));
  Object.defineProperty(copy, 'name', { value: error.name, enumerable: false, writable: true, configurable: true });
  copy.stack = scrubText(error.stack ?? `${error.name}: ${error.message}`, secrets);
  const fields = copy as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(error)) {
    if (key === 'message' || key === 'stack' || key === 'cause') continue;
    if (typeof value === 'string') fields[key] = scrubText(value, secrets);
    else if (typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  if (error.cause !== undefined && depth < MAX_DEPTH) copy.cause = scrubError(error.cause, secrets, depth + 1);
  return copy;
}

/** `text` with each of `secrets` replaced by `***`. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
