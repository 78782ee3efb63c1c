/*
 * The memory store's expiry clock. Reading the OS clock (`performance.now()`, like `Date.now()`)
 * costs about 0.1 µs on the bench VM: as much as the whole LRU lookup. So reads use a cached
 * time, refreshed by every write, by the first call of each event-loop turn (a `setImmediate`
 * armed only while the store is busy: no timer when idle), and at least every `REFRESH_EVERY`
 * calls within one turn. A cached time is never ahead of the real one, so an expired entry seen
 * as expired really is; entries within `EXACT_WINDOW_MS` of their expiry are checked against the
 * real clock (see `isExpired`), so expiry stays millisecond-exact unless one synchronous stretch
 * of the event loop runs longer than that window.
 */

/** Calls served from the cached time before it is re-read within one event-loop turn. */
const REFRESH_EVERY = 64;
/** Entries this close to expiry (by the cached time) are checked against the real clock. */
const EXACT_WINDOW_MS = 1000;

let cached = 0;
let calls = 0;
let armed = false;

function disarm(): void {
  armed = false;
}

/** The real monotonic time in ms (also refreshes the cached time). */
function preciseNow(): number {
  cached = performance.now();
  calls = 0;
  if (!armed) {
    armed = true;
    // Marks the end of this event-loop turn; unref'd so it never keeps the process alive.
    setImmediate(disarm).unref();
  }
  return cached;
}

/** The cached time (never ahead of the real one); re-read when stale as described above. */
function coarseNow(): number {
  return armed && ++calls < REFRESH_EVERY ? cached : preciseNow();
}

/** True if an entry with absolute expiry `expires` (0 = never) has expired. */
export function isExpired(expires: number): boolean {
  if (expires === 0) return false;
  const now = coarseNow();
  if (expires <= now) return true;
  // Close to expiry: the cached time may lag by up to one event-loop turn, so ask the real clock.
  return expires - now < EXACT_WINDOW_MS && expires <= preciseNow();
}

/** Absolute expiry of a relative TTL (`undefined` = never, stored as 0). */
export function expiryOf(ttlMs: number | undefined): number {
  // 0 meant "no expiry" to lru-cache too; the facade never passes it.
  return ttlMs ? preciseNow() + ttlMs : 0;
}

/** The store clock's time of a write (the cached time: `expiryOf`, called first by a write with a TTL, has just refreshed it). */
export function writeTime(): number {
  return coarseNow();
}

/** How long one wall-clock offset is reused: wall-clock steps (NTP) show up within this time. */
const OFFSET_REUSE_MS = 1000;
/** A pair of clock reads further apart than this (the thread was preempted between them) is read again. */
const PAIR_SPREAD_MS = 0.25;
let wallOffset = 0;
let wallOffsetAt = Number.NEGATIVE_INFINITY;

/**
 * Epoch ms minus monotonic ms, read as one stable pair: two calls for the same write give the same
 * answer, where reading `Date.now()` and `performance.now()` apart on each call could differ by
 * however long the thread was preempted between the two reads.
 */
function wallClockOffset(): number {
  const now = performance.now();
  if (now - wallOffsetAt < OFFSET_REUSE_MS) return wallOffset;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = performance.now();
    const wall = Date.now();
    const after = performance.now();
    wallOffset = wall - (before + after) / 2;
    if (after - before <= PAIR_SPREAD_MS) break;
  }
  wallOffsetAt = now;
  return wallOffset;
}

/** The epoch ms of a store-clock time `at` in the past (never later than now). */
export function epochOf(at: number): number {
  return Math.min(at, performance.now()) + wallClockOffset();
}
