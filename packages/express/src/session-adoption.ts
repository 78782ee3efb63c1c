import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

let adopted = false;

/**
 * Makes `target` (`CacheSessionStore`) a subclass of express-session's `Store` (which gives `regenerate`,
 * `load` and `createSession`, and passes `instanceof` checks) without a hard dependency:
 * express-session is an optional peer, and @fastify/session needs none of it.
 */
export function adoptExpressSessionStore(
  target: abstract new (...args: never[]) => EventEmitter,
  given?: new () => object,
): void {
  if (adopted) return;
  let Store = given;
  if (!Store) {
    try {
      const require = createRequire(import.meta.url);
      Store = (require('express-session') as { Store?: new () => object }).Store;
    } catch {
      return;
    }
  }
  if (!Store || !(Store.prototype instanceof EventEmitter)) return;
  adopted = true;
  Object.setPrototypeOf(target.prototype, Store.prototype);
}
