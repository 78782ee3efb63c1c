import { type ScrubErrorOptions, scrubError as scrubAnyError, secretList } from '@larder/core/driver';
import type { DynamoDbCredentials } from './options';

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
  return secretList(found, MIN_SECRET_LENGTH);
}

// What the copy keeps beyond core's default: `$metadata`'s plain values and a failed condition's `Item`.
const SCRUB_OPTIONS: ScrubErrorOptions = {
  keep(error, copy, scrub) {
    const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata;
    if (metadata && typeof metadata === 'object') {
      const kept: Record<string, unknown> = {};
      for (const key of METADATA) {
        const value = metadata[key];
        if (typeof value === 'number') kept[key] = value;
        else if (typeof value === 'string') kept[key] = scrub(value);
      }
      copy.$metadata = kept;
    }
    const item = (error as { Item?: unknown }).Item;
    if (item !== undefined) copy.Item = item;
  },
};

/**
 * A copy of an SDK error that is safe to show. The SDK puts the raw HTTP response (`$response`,
 * with its socket, agent and the signed request's headers: the access key id in `Authorization`,
 * the session token in `X-Amz-Security-Token`) on service errors, which `util.inspect` prints.
 * The copy keeps the name, message, stack, primitive fields (`$fault`, `code`…), `$metadata`'s
 * plain values and a failed condition's `Item` (the caller's own data); strings have every key
 * replaced by `***`; its `cause` is scrubbed the same way; everything else is dropped.
 */
export function scrubError(error: unknown, secrets: readonly string[]): Error {
  return scrubAnyError(error, secrets, SCRUB_OPTIONS);
}
