import { EventEmitter } from 'node:events';
import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { CacheSessionStore } from '../src/index';
import { countingMemoryCache } from './helpers';

// The store's parent class is chosen once, when the module loads; nothing re-parents it at run time.
describe('CacheSessionStore and express-session Store', () => {
  it('is a subclass of Store before any instance exists, and a Store option re-parents nothing', () => {
    // Before any construction (this file loads the module afresh): failed when the class was adopted by its first instance.
    expect(Object.getPrototypeOf(CacheSessionStore.prototype)).toBe(session.Store.prototype);

    class OtherStore extends EventEmitter {
      createSession(_req: unknown, data: Record<string, unknown>) {
        return { ...data, builtBy: 'other' };
      }
    }
    const { cache } = countingMemoryCache();
    const store = new CacheSessionStore({ cache, Store: OtherStore });
    expect(Object.getPrototypeOf(CacheSessionStore.prototype)).toBe(session.Store.prototype);
    expect(store).toBeInstanceOf(session.Store);
    // The given class's methods serve this instance only.
    expect(store.createSession({}, { a: 1 })).toMatchObject({ a: 1, builtBy: 'other' });
    const plain = new CacheSessionStore({ cache });
    expect(plain.createSession({ sessionID: 's' }, { cookie: {}, a: 1 })).toBeInstanceOf(session.Session);
  });
});
