import { describe, expect, it } from 'vitest';
import { epochOf } from '../src/expiry-clock';
import { createMemoryStore } from '../src/index';

// The store checks expiry on a cached clock (see `isExpired` in expiry-clock.ts): these pin its precision.
describe('MemoryStore expiry clock', () => {
  it('epochOf gives one write the same wall time on every call, never later than now', () => {
    const at = performance.now() - 5;
    const first = epochOf(at);
    const now = Date.now();
    expect(new Set(Array.from({ length: 100 }, () => epochOf(at)))).toEqual(new Set([first]));
    expect(first).toBeLessThanOrEqual(now - 4);
    expect(first).toBeGreaterThanOrEqual(now - 50);
    expect(epochOf(performance.now() + 60_000)).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('expires an entry inside a tight await loop that never yields to the event loop', async () => {
    const store = createMemoryStore();
    await store.set('k', 'v', 20);
    const start = performance.now();
    let seenAt = 0;
    // Only microtasks here: no timer or immediate can refresh the clock, so the read path must.
    while (performance.now() - start < 200) {
      if ((await store.get('k')) === undefined) {
        seenAt = performance.now() - start;
        break;
      }
    }
    expect(seenAt).toBeGreaterThan(0);
    expect(seenAt).toBeLessThan(120); // 20 ms + slack for a stalled (loaded) machine; "never" is the bug
  });

  it('expires an entry read right after a long synchronous stretch', async () => {
    const store = createMemoryStore();
    expect(await store.get('warm')).toBeUndefined(); // the cached clock is now set
    await store.set('k', 'v', 30);
    const start = performance.now();
    while (performance.now() - start < 60) {
      // busy: the event loop does not turn
    }
    expect(store.getSync('k')).toBeUndefined();
    expect(await store.has('k')).toBe(false);
    expect(await store.delete('k')).toBe(false);
  });

  it('touch moves the expiry in place; entries without a TTL never expire', async () => {
    const store = createMemoryStore();
    await store.set('short', 'v', 30);
    await store.set('forever', 'v', undefined);
    expect(await store.touch('short', 60_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await store.get('short')).toBe('v');
    expect(await store.get('forever')).toBe('v');
    expect(await store.touch('short', 10)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await store.get('short')).toBeUndefined();
    expect([...(await collect(store.keys('')))]).toEqual(['forever']);
  });

  it('an increment keeps the expiry of an existing counter', async () => {
    const store = createMemoryStore();
    // 500 ms: the second increment lands well within it even on a loaded machine.
    expect(await store.increment('n', 1, 500)).toBe(1);
    expect(await store.increment('n', 2, 60_000)).toBe(3);
    // Gone within seconds, not the 60 s the second increment would have given it.
    const start = performance.now();
    while ((await store.get('n')) !== undefined) {
      expect(performance.now() - start).toBeLessThan(5_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of keys) out.push(key);
  return out;
}
