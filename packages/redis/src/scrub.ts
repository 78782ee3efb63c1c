import {
  type ScrubErrorOptions,
  scrubError as scrubAnyError,
  scrubText as scrubSecrets,
  secretList,
} from '@larder/core/driver';
import type { ResolvedRedisOptions } from './options';

// ioredis puts the failed command on its errors (`command: { name, args }`, and `args` / `previousErrors`
// on some): for AUTH and HELLO the args are the user name and password, so no copy keeps them.
const DROPPED = new Set(['command', 'args', 'previousErrors', 'lastNodeError', 'errors']);
const MIN_SECRET_LENGTH = 3;

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
  const long = found.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
  return secretList(
    long.flatMap((secret) => [secret, encodeURIComponent(secret)]),
    MIN_SECRET_LENGTH,
  );
}

/** `text` with URL passwords and each of `secrets` replaced by `***`. */
export function scrubText(text: string, secrets: readonly string[]): string {
  return scrubSecrets(text, secrets, true);
}

const SCRUB_OPTIONS: ScrubErrorOptions = {
  drop: DROPPED,
  redactUrls: true,
  aggregate: true,
  // Only the command's name is kept: its arguments may be AUTH's.
  keep(error, copy) {
    const command = (error as { command?: { name?: unknown } }).command;
    if (command && typeof command.name === 'string') copy.command = { name: command.name };
  },
  nonError: (value, scrub) => (typeof value === 'string' ? scrub(value) : undefined),
};

/**
 * A copy of a client error that is safe to show: same class name, message and code, scrubbed of
 * secrets, without the command's arguments; its `cause` (and an AggregateError's `errors`) scrubbed too.
 */
export function scrubError(error: unknown, secrets: readonly string[]): unknown {
  return scrubAnyError<unknown>(error, secrets, SCRUB_OPTIONS);
}
