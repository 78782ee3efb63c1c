import { REDACTED } from '@larder/core';
import type { DynamoDbCredentials } from './options';

const MAX_DEPTH = 5;
const MIN_SECRET_LENGTH = 4;
const ENV_SECRETS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
// The SDK's request metadata: plain values, safe to show (the request id is what AWS support asks for).
const METADATA = ['httpStatusCode', 'requestId', 'extendedRequestId', 'cfId', 'attempts', 'totalRetryDelay'];

/** The AWS keys to keep out of errors: the options' static credentials and the AWS_* variables, longest first. */
export function secretsOf(
  credentials: DynamoDbCredentials | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const found = [
    credentials?.accessKeyId,
    credentials?.secretAccessKey,
    credentials?.sessionToken,
    ...ENV_SECRETS.map((name) => env[name]),
  ];
  const secrets = found.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

/**
 * A copy of an SDK error that is safe to show. The SDK puts the raw HTTP response (`$response`,
 * with its socket, agent and the signed request's headers: the access key id in `Authorization`,
 * the session token in `X-Amz-Security-Token`) on service errors, which `util.inspect` prints.
 * The copy keeps the name, message, stack, primitive fields (`$fault`, `code`…), `$metadata`'s
 * plain values and a failed condition's `Item` (the caller's own data); strings have every key
 * replaced by `***`; its `cause` is scrubbed the same way; everything else is dropped.
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
  const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata;
  if (metadata && typeof metadata === 'object') {
    const kept: Record<string, unknown> = {};
    for (const key of METADATA) {
      const value = metadata[key];
      if (typeof value === 'number') kept[key] = value;
      else if (typeof value === 'string') kept[key] = scrubText(value, secrets);
    }
    fields.$metadata = kept;
  }
  const item = (error as { Item?: unknown }).Item;
  if (item !== undefined) fields.Item = item;
  if (error.cause !== undefined && depth < MAX_DEPTH) copy.cause = scrubError(error.cause, secrets, depth + 1);
  return copy;
}

/** `text` with each of `secrets` replaced by `***`. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}
