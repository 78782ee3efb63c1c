import { TimeoutError } from '../contract/errors';

/**
 * Bounds `promise` by `ms`: rejects with `TimeoutError` (or the error `timeoutError` makes) when
 * it does not settle in time. One timer per call, cleared as soon as the call settles and unref'd
 * so it never keeps the process alive. A late rejection of `promise` is absorbed (no unhandled
 * rejection).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, operation: string, driver: string): Promise<T>;
export function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T>;
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  operation: string | (() => Error),
  driver?: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(typeof operation === 'function' ? operation() : new TimeoutError(operation, driver!, ms)),
      ms,
    );
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms` (used for lock and remember back-off, never as a test wait). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
