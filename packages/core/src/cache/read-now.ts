// A synchronous read for larder's own packages (the response cache's in-process lookup), not part
// of the app API: an in-process store answers `get` within the call, and a caller that can go on
// at once saves the promise and the microtask of every hit.

/** The key of `Cache`'s synchronous read. */
export const READ_NOW: unique symbol = Symbol('larder.cache.readNow');

/** What `readNow` returns when only `Cache.get` can answer. */
export const NOT_NOW: unique symbol = Symbol('larder.cache.notNow');

/**
 * What `cache.get(key)` (a `Cache`) would resolve, found within this call: on a store with a
 * synchronous read (the memory driver), counted and checked as `get` does. `NOT_NOW` when only
 * `get` can answer: the store not known yet, a store across the network, tracing on (`get` traces
 * each read), or a failure (`get` then reports it). With `shared`, a store that copies what it
 * keeps (the memory driver's `clone` mode) answers with the value it keeps, not a copy: only for a
 * caller that never changes what it reads.
 */
export function readNow(
  cache: { [READ_NOW](key: string, shared?: boolean): unknown },
  key: string,
  shared = false,
): unknown {
  return cache[READ_NOW](key, shared);
}
