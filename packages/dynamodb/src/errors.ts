import { BackendError, type TimeoutError, ValueTooLargeError } from '@larder/core';
import type { Deadline } from './batch';

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/**
 * Maps an SDK failure to larder's typed errors: our own spent deadline is a `TimeoutError`; anything
 * else (throttling still failing after the SDK's retries, validation, network) is a `BackendError`
 * carrying the SDK error as `cause`. An SDK connect/socket timeout (also named 'TimeoutError') is a
 * backend failure, not the store's timeout.
 */
export function toLarderError(error: unknown, what: string, deadline: Deadline): BackendError | ValueTooLargeError {
  if (error instanceof BackendError || error instanceof ValueTooLargeError) return error;
  const name = (error as Error | undefined)?.name;
  if (deadline.signal.aborted || name === 'AbortError') {
    const timeout: TimeoutError = deadline.timeoutError();
    (timeout as { cause?: unknown }).cause = error;
    return timeout;
  }
  const throttled = name !== undefined && THROTTLING.has(name) ? ' (throttled after retries)' : '';
  return new BackendError(`dynamodb ${what} failed${throttled}: ${name}: ${(error as Error)?.message}`, 'dynamodb', {
    cause: error,
  });
}

/** True for the error of a conditional write whose condition did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}
