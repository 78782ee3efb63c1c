import { ConfigError, UnsupportedOperationError } from '../../contract/errors';
import { RESERVED_KEY_PREFIX } from '../../values/key-policy';
import { type OperationPath, offers } from './operation';

// The operations of `Cache` on its whole key space (its prefix): `clear` and `keys`.

/** `Cache.clear`: deletes every key under the prefix and nothing else; refuses an empty prefix. */
export async function clearPrefix(ops: OperationPath): Promise<void> {
  const context = ops.context;
  const store = context.store ?? (await context.ready);
  if (ops.prefix === '') {
    throw new ConfigError(
      'Refusing to clear a cache with an empty prefix: it would delete every key on the backend. Set `prefix`.',
      'prefix',
    );
  }
  if (!offers(store, 'clear') || !store.capabilities.clear)
    throw new UnsupportedOperationError('clear', context.driver);
  await ops.settle('clear', undefined, () => store.clear(ops.prefix)).finally(() => context.l1?.cleared(ops.prefix));
}

/** `Cache.keys`: this cache's keys without its prefix, never the reserved entries; each step bounded by the timeout. */
export async function* listKeys(ops: OperationPath): AsyncIterable<string> {
  const context = ops.context;
  const store = context.store ?? (await context.ready);
  if (!store.keys || !store.capabilities.enumerate) throw new UnsupportedOperationError('keys', context.driver);
  const prefix = ops.prefix;
  // Locks live under the root prefix's reserved namespace (see `Cache.lock`): never listed.
  const reserved = ops.path === '' ? prefix + RESERVED_KEY_PREFIX : undefined;
  const iterator = store.keys(prefix)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let step: IteratorResult<string>;
      try {
        step = await ops.bound(iterator.next(), 'keys');
      } catch (error) {
        ops.failed('keys', undefined, error, undefined);
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
