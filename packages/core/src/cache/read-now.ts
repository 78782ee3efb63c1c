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
 * each read), or a failure (`get` then reports it).
 */
export function readNow(cache: { [READ_NOW](key: string): unknown }, key: string): unknown {
  return cache[READ_NOW](key);
}
