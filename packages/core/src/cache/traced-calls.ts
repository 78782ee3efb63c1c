import { type HitOf, listed, rememberHit, traceOperation } from '../util/tracing';
import type { Ttl } from '../values/ttl';
import type { OperationPath } from './operations/operation';
import { rememberWithStatus } from './operations/remember';
import type { RememberOptions } from './options';

// How `Cache` traces its operations (`larder.operation`, see tracing.ts) when someone subscribes:
// each facade method calls one of these instead of its operation, which they wrap.

/** One traced single-key operation. */
export function tracedKey<R>(
  ops: OperationPath,
  operation: string,
  key: string,
  hitOf: HitOf | undefined,
  run: () => Promise<R>,
): Promise<R> {
  return traceOperation(ops.context, operation, 1, ops.path + key, hitOf, run);
}

/** One traced batch: the keys are listed first (an iterator is read once) to count them. */
export function tracedBatch<I, R>(
  ops: OperationPath,
  operation: string,
  items: Iterable<I>,
  hitOf: HitOf | undefined,
  run: (items: Iterable<I>) => Promise<R>,
): Promise<R> {
  let list: Iterable<I>;
  try {
    list = listed(items);
  } catch (error) {
    return traceOperation(ops.context, operation, 0, undefined, hitOf, () => Promise.reject(error));
  }
  const count = Array.isArray(list) ? list.length : 0;
  return traceOperation(ops.context, operation, count, undefined, hitOf, () => run(list));
}

/** A traced `remember`: run through `rememberWithStatus` so the trace knows hit, miss or graced. */
export function tracedRemember<T>(
  ops: OperationPath,
  operation: string,
  key: string,
  ttl: Ttl | undefined,
  loader: () => T | Promise<T>,
  options: RememberOptions | undefined,
): Promise<T> {
  return tracedKey(ops, operation, key, rememberHit, () => rememberWithStatus(ops, key, ttl, loader, options)).then(
    (result) => result.value,
  );
}
