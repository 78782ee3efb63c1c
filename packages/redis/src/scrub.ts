import { REDACTED, redactText } from '@larder/core';
import type { ResolvedRedisOptions } from './options';

// ioredis puts the failed command on its errors (`command: { name, args }`, and `args` / `previousErrors`
// on some): for AUTH and HELLO the args are the user name and password, so no copy keeps them.
const DROPPED = new Set(['command', 'args', 'previousErrors', 'lastNodeError', 'stack', 'message', 'cause', 'errors']);
const MIN_SECRET_LENGTH = 3;
const MAX_DEPTH = 5;

/** Every password the options give a client (URLs, options, ioredis and Sentinel options), to scrub from errors. */
export function secretsOf(o: ResolvedRedisOptions): string[] {
  const source = o.source;
  const found = [
    o.primary?.password,
    ...o.replicas.map((r) => r.password),
    source.password,
    source.sentinelPassword,
    source.redisOptions?.password,
    source.redisOptions?.sentinelPassword,
    source.clusterOptions?.redisOptions?.password,
    ...(source.sentinels ?? []).map((s) => (s as { password?: string }).password),
    ...(source.clusterNodes ?? []).map((s) => (s as { password?: string }).password),
  ];
  const secrets = new Set<string>();
  for (const secret of found) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) continue;
    secrets.add(secret);
    secrets.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret containing another is replaced whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with URL passwords and each of `secrets` replaced by `***`. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = redactText(text);
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/**
 * A copy of a client error that is safe to show: same class name, message and code, scrubbed of
 * secrets, without the command's arguments; its `cause` (and an AggregateError's `errors`) scrubbed too.
 */
export function scrubError(error: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? scrubText(error, secrets) : undefined;
  const copy = new Error(scrubText(error.message, secrets));
  Object.defineProperty(copy, 'name', { value: error.name, enumerable: false, writable: true });
  copy.stack = scrubText(error.stack ?? `${error.name}: ${error.message}`, secrets);
  for (const [key, value] of Object.entries(error)) {
    if (DROPPED.has(key)) continue;
    if (typeof value === 'string') (copy as unknown as Record<string, unknown>)[key] = scrubText(value, secrets);
    else if (typeof value === 'number' || typeof value === 'boolean') {
      (copy as unknown as Record<string, unknown>)[key] = value;
    }
  }
  const command = (error as { command?: { name?: unknown } }).command;
  if (command && typeof command.name === 'string') {
    (copy as unknown as Record<string, unknown>).command = { name: command.name };
  }
  if (depth < MAX_DEPTH) {
    if (error.cause !== undefined) copy.cause = scrubError(error.cause, secrets, depth + 1);
    const errors = (error as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      (copy as unknown as Record<string, unknown>).errors = errors.map((e) => scrubError(e, secrets, depth + 1));
    }
  }
  return copy;
}
