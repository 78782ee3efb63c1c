import type { Engine } from '../engine';

// `maxConcurrentLoads`: how many background refreshes (of stale values, ahead of expiry) a cache
// runs at once, across its keys. Past it a hit serves its value and starts none: a later hit
// starts it once a slot is free. Callers waiting on a miss are never refused.

const running = new WeakMap<Engine, { count: number }>();

/** Takes a background slot of `engine` under `limit` (none: always); the returned function frees it, `undefined` when none is free. */
export function backgroundSlot(engine: Engine, limit: number | undefined): (() => void) | undefined {
  let slots = running.get(engine);
  if (slots === undefined) {
    slots = { count: 0 };
    running.set(engine, slots);
  }
  if (limit !== undefined && slots.count >= limit) return undefined;
  slots.count++;
  const held = slots;
  let freed = false;
  return () => {
    if (freed) return;
    freed = true;
    held.count--;
  };
}
