import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/** What `CacheSessionStore` takes from express-session's `Store` (typed loosely: express-session is not a dependency). */
export interface StoreMethods {
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Request type is not a dependency
  regenerate?(req: any, callback: (err?: any) => any): void;
  // biome-ignore lint/suspicious/noExplicitAny: express-session's Session type is not a dependency
  load?(sid: string, callback: (err: any, session?: any) => any): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  createSession?(req: any, session: any): any;
}

/**
 * The parent class of `CacheSessionStore`, chosen once when this module loads and never changed:
 * express-session's `Store` when it is installed (which gives `regenerate`, `load` and
 * `createSession`, and passes `instanceof` checks), else `EventEmitter`. express-session is an
 * optional peer: @fastify/session needs none of it.
 */
export const SessionStoreBase: new () => EventEmitter = expressSessionStore() ?? EventEmitter;

/** express-session's `Store` class, or undefined when it cannot be loaded from here. */
function expressSessionStore(): (new () => EventEmitter) | undefined {
  try {
    const require = createRequire(import.meta.url);
    const Store = (require('express-session') as { Store?: new () => EventEmitter }).Store;
    return Store && Store.prototype instanceof EventEmitter ? Store : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `Store` methods a store built over `SessionStoreBase` lacks, taken from the `Store` class
 * given in the options (a bundle where express-session cannot be loaded by name): bound to the
 * instance, nothing re-parented. Empty when the base already is that class (or none was given).
 */
export function borrowedStoreMethods(target: object, Store: (new () => object) | undefined): StoreMethods {
  if (Store === undefined || target instanceof Store) return {};
  const from = Store.prototype as StoreMethods;
  const methods: StoreMethods = {};
  if (typeof from.regenerate === 'function') methods.regenerate = from.regenerate.bind(target);
  if (typeof from.load === 'function') methods.load = from.load.bind(target);
  if (typeof from.createSession === 'function') methods.createSession = from.createSession.bind(target);
  return methods;
}
