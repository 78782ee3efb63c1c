import { BackendError, isLarderError, type LarderError, TimeoutError } from '@larder/core';
import { explainRedisError, isConnectionLost, lastConnectionError, type RedisTarget } from './explain';
import { isCluster, reconnectAttempts } from './ioredis-internals';
import type { RedisClient } from './options';
import { scrubError, scrubText } from './scrub';

const DRIVER = 'redis';
// Reconnection attempts after which a client counts as down (see `unavailableError`).
const FAILED_ATTEMPTS = 3;

// A client whose reconnection already failed twice fails calls at once instead of queueing them
// until its next attempt. A first reconnect (a blip, a Sentinel switch) still queues: the calls
// go out when it succeeds, or fail when it does not (maxRetriesPerRequest 0), within ~100 ms.
export function unavailableError(
  client: RedisClient,
  op: string,
  closed: boolean,
  target: RedisTarget = { what: 'Redis', variable: 'REDIS_URL' },
): BackendError | undefined {
  if (closed) return new BackendError(`redis ${op} failed: the store is closed`, DRIVER);
  if (
    client.status === 'reconnecting' &&
    !isCluster(client) &&
    (reconnectAttempts(client) ?? FAILED_ATTEMPTS) >= FAILED_ATTEMPTS
  ) {
    const cause = explainRedisError(lastConnectionError(client), target);
    return new BackendError(`redis ${op} failed: ${cause ?? `not connected to ${target.what} (reconnecting)`}`, DRIVER);
  }
  return undefined;
}

/** Where a failed command went: the store's target and the client whose connection errors explain it. */
export interface FailureContext {
  target: RedisTarget;
  client: RedisClient;
  commandTimeoutMs: number;
  secrets: readonly string[];
}

/**
 * The store's error for a failed command: a `TimeoutError` for the command timeout, else a
 * `BackendError` saying the cause in words and what to check (see explainRedisError), wrapping a
 * scrubbed copy of the client's error.
 */
export function storeError(op: string, error: unknown, context: FailureContext): LarderError {
  if (isLarderError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'Command timed out') return new TimeoutError(op, DRIVER, context.commandTimeoutMs);
  // A command queued while the connection was down fails with ioredis' "max retries" words: the
  // connection's own error is the cause.
  const lost = isConnectionLost(error);
  const cause = (lost && lastConnectionError(context.client)) || error;
  const causeText = cause instanceof Error ? cause.message : String(cause);
  // The connection was dropped because the server stopped answering (a frozen or blackholed server).
  if (causeText === 'Command timed out' || causeText.startsWith('Socket timeout')) {
    return new TimeoutError(op, DRIVER, context.commandTimeoutMs);
  }
  const words =
    explainRedisError(cause, context.target) ??
    (lost && cause === error
      ? `the connection to ${context.target.what} was lost before the command was sent (reconnecting)`
      : scrubText(causeText, context.secrets));
  // The client's error carries the failed command's arguments (AUTH's password): wrap a scrubbed copy.
  return new BackendError(`redis ${op} failed: ${words}`, DRIVER, { cause: scrubError(error, context.secrets) });
}
