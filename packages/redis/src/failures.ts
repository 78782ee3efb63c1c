import { BackendError, LarderError, TimeoutError } from '@larder/core';
import { isCluster, reconnectAttempts } from './ioredis-internals';
import type { RedisClient } from './options';
import { scrubError, scrubText } from './scrub';

const DRIVER = 'redis';
// Reconnection attempts after which a client counts as down (see `unavailableError`).
const FAILED_ATTEMPTS = 3;

// A client whose reconnection already failed twice fails calls at once instead of queueing them
// until its next attempt. A first reconnect (a blip, a Sentinel switch) still queues: the calls
// go out when it succeeds, or fail when it does not (maxRetriesPerRequest 0), within ~100 ms.
export function unavailableError(client: RedisClient, op: string, closed: boolean): BackendError | undefined {
  if (closed) return new BackendError(`redis ${op} failed: the store is closed`, DRIVER);
  if (
    client.status === 'reconnecting' &&
    !isCluster(client) &&
    (reconnectAttempts(client) ?? FAILED_ATTEMPTS) >= FAILED_ATTEMPTS
  ) {
    return new BackendError(`redis ${op} failed: not connected to Redis (reconnecting)`, DRIVER);
  }
  return undefined;
}

/** The store's error for a failed command: a `TimeoutError` for ioredis' command timeout, else a `BackendError` wrapping a scrubbed copy. */
export function storeError(
  op: string,
  error: unknown,
  commandTimeoutMs: number,
  secrets: readonly string[],
): LarderError {
  if (error instanceof LarderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'Command timed out') return new TimeoutError(op, DRIVER, commandTimeoutMs);
  // The client's error carries the failed command's arguments (AUTH's password): wrap a scrubbed copy.
  return new BackendError(`redis ${op} failed: ${scrubText(message, secrets)}`, DRIVER, {
    cause: scrubError(error, secrets),
  });
}
