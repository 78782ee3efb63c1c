import type { InvalidationHandlers, InvalidationMessage, InvalidationSource } from '../../src/contract/invalidation';
import type { CacheStore } from '../../src/contract/store';

/** A bus between caches of one test: what one publishes reaches the others (the interface the Redis bus implements). */
export function localBus() {
  const members = new Set<{ handlers: InvalidationHandlers }>();
  const published: InvalidationMessage[] = [];
  const source = (): InvalidationSource & { handlers: InvalidationHandlers; setState(up: boolean): void } => {
    const member = {
      mode: 'bus' as const,
      handlers: undefined as unknown as InvalidationHandlers,
      start(handlers: InvalidationHandlers) {
        member.handlers = handlers;
        members.add(member);
        handlers.onState(true);
      },
      publish(message: InvalidationMessage) {
        published.push(message);
        for (const other of members) {
          if (other === member) continue;
          if ('keys' in message) other.handlers.onKeys(message.keys);
          else other.handlers.onFlush(message.prefix);
        }
      },
      setState(up: boolean) {
        member.handlers.onState(up);
      },
      async close() {
        members.delete(member);
      },
    };
    return member;
  };
  return { source, published };
}

/** `inner` whose invalidation source in `bus` mode is `bus()` (a member of a `localBus`). */
export function withBus(inner: CacheStore, bus: () => InvalidationSource): CacheStore {
  const store: CacheStore = Object.create(inner);
  Object.assign(store, { invalidation: (mode: string) => (mode === 'bus' ? bus() : undefined) });
  return store;
}
