import { type HitOf, listed, type OperationTraceContext, rememberHit, traceOperation } from '../util/tracing';
import type { Ttl } from '../values/ttl';
import type { Engine } from './engine';
import type { Loader, RememberOptions } from './options';
import { rememberWithStatus } from './remember/remember-status';
import type { View } from './view';

// How `Cache` traces its operations (`larder.operation`, see util/tracing.ts) when someone
// subscribes: each facade method calls one of these instead of its operation, which they wrap.

/** One traced single-key operation. */
export function tracedKey<R>(
  engine: Engine,
  view: View,
  operation: string,
  key: string,
  hitOf: HitOf | undefined,
  run: (trace: OperationTraceContext) => Promise<R>,
): Promise<R> {
  return traceOperation(engine, operation, 1, view.path + key, hitOf, run);
}

/** One traced batch: the keys are listed first (an iterator is read once) to count them. */
export function tracedBatch<I, R>(
  engine: Engine,
  operation: string,
  items: Iterable<I>,
  hitOf: HitOf | undefined,
  run: (items: Iterable<I>, trace: OperationTraceContext) => Promise<R>,
): Promise<R> {
  let list: Iterable<I>;
  try {
    list = listed(items);
  } catch (error) {
    return traceOperation(engine, operation, 0, undefined, hitOf, () => Promise.reject(error));
  }
  const count = Array.isArray(list) ? list.length : 0;
  return traceOperation(engine, operation, count, undefined, hitOf, (trace) => run(list, trace));
}

/** A traced `remember`: run through `rememberWithStatus` so the trace knows hit, miss or graced. */
export function tracedRemember<T>(
  engine: Engine,
  view: View,
  operation: string,
  key: string,
  ttl: Ttl | undefined,
  loader: Loader<T>,
  options: RememberOptions | undefined,
): Promise<T> {
  return tracedKey(engine, view, operation, key, rememberHit, (trace) =>
    rememberWithStatus(engine, view, key, ttl, loader, options, trace),
  ).then((result) => result.value);
}
