import type { InvalidationHandlers, InvalidationMessage, InvalidationSource } from '../../src/contract/invalidation';

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
