import { ConfigError, UnsupportedOperationError } from '../../contract/errors';
import { traceOperation } from '../../util/tracing';
import { RESERVED_KEY_PREFIX } from '../../values/key-policy';
import type { Engine } from '../engine';
import type { View } from '../view';
import { offers } from './offers';

// The operations of `Cache` on its whole key space (its prefix): `clear` and `keys`.

/** `Cache.clear` (a `clear` trace when `traced`): see `clearKeys`. */
export function clearPrefix(engine: Engine, view: View, traced: boolean): Promise<void> {
  return traced
    ? traceOperation(engine, 'clear', 0, undefined, undefined, () => clearKeys(engine, view))
    : clearKeys(engine, view);
}

/** Deletes every key under the prefix and nothing else; refuses an empty prefix. */
async function clearKeys(engine: Engine, view: View): Promise<void> {
  const { store, reads } = engine.binding ?? (await engine.ready());
  if (view.prefix === '') {
    throw new ConfigError(
      'Refusing to clear a cache with an empty prefix: it would delete every key on the backend. Set `prefix`.',
      'prefix',
    );
  }
  if (!offers(store, 'clear')) throw new UnsupportedOperationError('clear', engine.driver);
  await engine.call(view, 'clear', undefined, () => store.clear(view.prefix)).finally(() => reads.cleared(view.prefix));
}

/** `Cache.keys`: this cache's keys without its prefix, never the reserved entries; each step bounded by the timeout. */
export async function* listKeys(engine: Engine, view: View): AsyncIterable<string> {
  const { store } = engine.binding ?? (await engine.ready());
  if (!offers(store, 'keys')) throw new UnsupportedOperationError('keys', engine.driver);
  const prefix = view.prefix;
  // Locks live under the root prefix's reserved namespace (see `Cache.lock`): never listed.
  const reserved = view.path === '' ? prefix + RESERVED_KEY_PREFIX : undefined;
  const iterator = store.keys(prefix)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let step: IteratorResult<string>;
      try {
        step = await engine.send('keys', () => iterator.next());
      } catch (error) {
        engine.failed(view, 'keys', undefined, error, undefined);
        return;
      }
      if (step.done) return;
      if (!step.value.startsWith(prefix)) continue;
      if (reserved !== undefined && step.value.startsWith(reserved)) continue;
      yield step.value.slice(prefix.length);
    }
  } finally {
    await iterator.return?.()?.catch?.(() => {});
  }
}
