import { BackendError, isLarderError, type TimeoutError, type ValueTooLargeError } from '@larder/core';
import type { Deadline } from './batch';
import { type DynamoDbTarget, explainDynamoDbError } from './explain';
import { scrubError } from './scrub';

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/**
 * Maps an SDK failure to larder's typed errors: our own spent deadline is a `TimeoutError`; anything
 * else (throttling still failing after the SDK's retries, validation, network) is a `BackendError`
 * carrying a scrubbed copy of the SDK error as `cause` (no AWS key, no raw HTTP response: see
 * scrub.ts), saying the cause in words and what to check where it can (see explain.ts). An SDK
 * connect/socket timeout (also named 'TimeoutError') is a backend failure, not the store's timeout.
 */
export function toLarderError(
  error: unknown,
  what: string,
  deadline: Deadline,
  secrets: readonly string[],
  target: DynamoDbTarget,
): BackendError | ValueTooLargeError {
  // Already mapped (by code and brand: the error may come from another copy of core).
  if (isLarderError(error, 'E_BACKEND') || isLarderError(error, 'E_TIMEOUT')) return error;
  if (isLarderError(error, 'E_VALUE_TOO_LARGE')) return error;
  const cause = scrubError(error, secrets);
  if (deadline.signal.aborted || cause.name === 'AbortError') {
    const timeout: TimeoutError = deadline.timeoutError();
    (timeout as { cause?: unknown }).cause = cause;
    return timeout;
  }
  const throttled = THROTTLING.has(cause.name) ? ' (throttled after retries)' : '';
  const words = explainDynamoDbError(cause, target) ?? `${cause.name}: ${cause.message}`;
  return new BackendError(`dynamodb ${what} failed${throttled}: ${words}`, 'dynamodb', { cause });
}

/** True for the error of a conditional write whose condition did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}
