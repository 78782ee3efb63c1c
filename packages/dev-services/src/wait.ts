import { setTimeout as sleep } from 'node:timers/promises';

/** Options of waitFor. */
export interface WaitOptions {
  /** Give up after this many ms (default 15000). */
  timeoutMs?: number;
  /** Pause between attempts in ms (default 50). */
  intervalMs?: number;
  /** What is being waited for, used in the timeout error. */
  description?: string;
  /** Stop early (rejecting with this function's error) when it returns an Error, e.g. "the process exited". */
  abortIf?: () => Error | undefined;
}

/**
 * Polls `check` until it returns a value other than `false`/`undefined`/`null` (or stops throwing), then returns that value.
 * On timeout the error names `description` and the last failure.
 */
export async function waitFor<T>(
  check: () => Promise<T | false | undefined> | T | false | undefined,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = options.abortIf?.();
    if (aborted) throw aborted;
    try {
      const value = await check();
      if (value !== false && value !== undefined && value !== null) return value as T;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.description ?? 'a condition'}${why}`, {
        cause: lastError,
      });
    }
    await sleep(intervalMs);
  }
}
