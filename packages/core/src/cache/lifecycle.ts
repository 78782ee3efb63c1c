import type { StoreDescription } from '../contract/store-description';
import type { CacheContext } from './context';

/** `Cache.describe`: the store's own description (`mode: 'unknown'` when it gives none), with the L1's when there is one. */
export async function describeCache(context: CacheContext): Promise<StoreDescription> {
  const store = await context.ready;
  const description = (await store.describe?.()) ?? {
    driver: store.driver,
    topology: { mode: 'unknown', nodes: [] },
  };
  const l1 = context.l1?.describe();
  return l1 === undefined ? description : { ...description, l1 };
}

/** `Cache.close`: stops the L1 and closes the store, once for a cache and all its namespaces. */
export function closeCache(context: CacheContext): Promise<void> {
  context.closed ??= context.ready.then(
    async (store) => {
      // The store closes even if stopping the L1 fails: its connections must not outlive the cache.
      try {
        await context.l1?.close();
      } finally {
        await store.close?.();
      }
    },
    () => undefined,
  );
  return context.closed;
}
