import { setMaxListeners } from 'node:events';
import { TimeoutError } from '@larder/core';

/** BatchGetItem takes at most 100 keys per request. */
export const BATCH_GET_LIMIT = 100;
/** BatchWriteItem takes at most 25 put/delete requests per request. */
export const BATCH_WRITE_LIMIT = 25;

/** Splits `items` into arrays of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** The time budget of one store operation: every request and retry round shares it. */
export class Deadline {
  /** Epoch ms after which the operation has failed. */
  readonly at: number;
  /** Aborts in-flight SDK requests when the budget is spent. */
  readonly signal: AbortSignal;

  constructor(
    readonly timeoutMs: number,
    readonly operation: string,
  ) {
    this.at = Date.now() + timeoutMs;
    this.signal = AbortSignal.timeout(timeoutMs);
    // Every request of a batch operation (chunks in parallel) listens on this one signal.
    setMaxListeners(0, this.signal);
  }

  /** Milliseconds left (0 when spent). */
  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }

  /** The error to throw when the budget is spent. */
  timeoutError(): TimeoutError {
    return new TimeoutError(this.operation, 'dynamodb', this.timeoutMs);
  }
}

/** Backoff tuning for unprocessed-item rounds. */
export interface BackoffOptions {
  /** First delay cap in ms. @default 20 */
  baseDelayMs?: number;
  /** Largest delay cap in ms. @default 1000 */
  maxDelayMs?: number;
}

/** "Full jitter" exponential backoff: a random delay in [0, min(max, base * 2^attempt)). */
export function backoffDelay(attempt: number, { baseDelayMs = 20, maxDelayMs = 1000 }: BackoffOptions = {}): number {
  return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
}

/**
 * Runs `send` on `items` until nothing is left unprocessed. `send` returns what the service
 * left unprocessed (BatchGetItem's UnprocessedKeys, BatchWriteItem's UnprocessedItems), which
 * DynamoDB does under throttling or response-size limits (16 MB; dynalite ~1.4 MB) without
 * raising an error. AWS asks callers to back off before resubmitting: the delay grows while no
 * progress is made and restarts small after any progress. Throws `TimeoutError` past the deadline.
 */
export async function untilProcessed<T>(
  items: T[],
  send: (items: T[]) => Promise<T[]>,
  deadline: Deadline,
  backoff?: BackoffOptions,
): Promise<void> {
  let pending = items;
  let attempt = 0;
  while (pending.length > 0) {
    const left = await send(pending);
    if (left.length === 0) return;
    attempt = left.length < pending.length ? 0 : attempt + 1;
    pending = left;
    const delay = backoffDelay(attempt, backoff);
    if (delay >= deadline.remaining()) throw deadline.timeoutError();
    await sleep(delay);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
