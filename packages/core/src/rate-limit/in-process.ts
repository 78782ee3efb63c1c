import type { RateLimitReply, RateLimitRequest } from '../contract/rate-limit';

/**
 * The three algorithms on state kept in this process: the memory driver's `rateLimit` and the
 * limiter's `'local'` fallback both run them. Pure: the caller keeps the state (mutated in place)
 * and passes its clock; times are milliseconds on that clock.
 */

/** Fixed window: units counted since the window opened (at its first hit), until `endsAt`. */
export interface FixedState {
  readonly kind: 'fixed';
  count: number;
  endsAt: number;
}

/**
 * Sliding window, exact: the admission time of each unit still inside the window, oldest at
 * `head` of a ring of `limit` slots. A hit fits when the units of the last window plus its cost
 * stay within the limit, over every window-long stretch, not only aligned ones.
 */
export interface SlidingState {
  readonly kind: 'sliding';
  readonly times: Float64Array;
  head: number;
  size: number;
}

/**
 * Token bucket as GCRA: `tat` (theoretical arrival time) is when the bucket would be full
 * again; each unit moves it `windowMs / limit` later, and a hit fits while it stays within one
 * window of now.
 */
export interface BucketState {
  readonly kind: 'token-bucket';
  tat: number;
}

/** Rate-limit state of one key. */
export type InProcessState = FixedState | SlidingState | BucketState;

/** A decision and what to keep: `state` until `expiresAt` (same clock), or nothing. */
export interface InProcessResult {
  readonly reply: RateLimitReply;
  readonly state: InProcessState | undefined;
  readonly expiresAt: number;
}

// Float rounding of the token bucket's fractional unit interval (a nanosecond).
const EPSILON_MS = 1e-6;

/** Applies `request` to `state` (an expired or other-kind state counts as none) at time `now`. */
export function decideInProcess(
  state: InProcessState | undefined,
  request: RateLimitRequest,
  now: number,
): InProcessResult {
  if (request.op === 'reset') return { reply: reply(true, request.limit, 0, 0), state: undefined, expiresAt: 0 };
  const kind = request.algorithm;
  const own = state?.kind === kind ? state : undefined;
  if (kind === 'fixed') return fixed(own as FixedState | undefined, request, now);
  if (kind === 'sliding') return sliding(own as SlidingState | undefined, request, now);
  return bucket(own as BucketState | undefined, request, now);
}

function reply(allowed: boolean, remaining: number, resetMs: number, retryAfterMs: number): RateLimitReply {
  return {
    allowed,
    remaining: Math.max(0, Math.floor(remaining + EPSILON_MS)),
    resetMs: Math.max(0, Math.ceil(resetMs - EPSILON_MS)),
    retryAfterMs: Math.max(0, Math.ceil(retryAfterMs - EPSILON_MS)),
  };
}

function fixed(state: FixedState | undefined, r: RateLimitRequest, now: number): InProcessResult {
  let s = state !== undefined && state.endsAt > now ? state : undefined;
  const count = s?.count ?? 0;
  const resetMs = s === undefined ? 0 : s.endsAt - now;
  const fits = count + r.cost <= r.limit;
  if (r.op === 'hit' && fits) {
    s ??= { kind: 'fixed', count: 0, endsAt: now + r.windowMs };
    s.count += r.cost;
    return { reply: reply(true, r.limit - s.count, s.endsAt - now, 0), state: s, expiresAt: s.endsAt };
  }
  if (r.op === 'refund' && s !== undefined) s.count = Math.max(0, count - r.cost);
  const left = r.limit - (s?.count ?? 0);
  const allowed = r.op === 'refund' || fits;
  return { reply: reply(allowed, left, resetMs, allowed ? 0 : resetMs), state: s, expiresAt: s?.endsAt ?? 0 };
}

function sliding(state: SlidingState | undefined, r: RateLimitRequest, now: number): InProcessResult {
  const s =
    state !== undefined && state.times.length === r.limit
      ? state
      : { kind: 'sliding' as const, times: new Float64Array(r.limit), head: 0, size: 0 };
  const capacity = s.times.length;
  const edge = now - r.windowMs;
  // Units admitted a full window ago or earlier no longer count.
  while (s.size > 0 && s.times[s.head]! <= edge) {
    s.head = (s.head + 1) % capacity;
    s.size--;
  }
  const fits = s.size + r.cost <= r.limit;
  let retryAfterMs = 0;
  if (r.op === 'hit' && fits) {
    for (let i = 0; i < r.cost; i++) s.times[(s.head + s.size + i) % capacity] = now;
    s.size += r.cost;
  } else if (r.op === 'refund') {
    s.size = Math.max(0, s.size - r.cost);
  } else if (!fits) {
    // The hit fits once the oldest `need` units have left the window.
    const need = s.size + r.cost - r.limit;
    retryAfterMs = s.times[(s.head + need - 1) % capacity]! - edge;
  }
  if (s.size === 0) return { reply: reply(fits || r.op === 'refund', r.limit, 0, 0), state: undefined, expiresAt: 0 };
  const newest = s.times[(s.head + s.size - 1) % capacity]!;
  const allowed = r.op === 'refund' || fits;
  return {
    reply: reply(allowed, r.limit - s.size, newest - edge, allowed ? 0 : retryAfterMs),
    state: s,
    expiresAt: newest + r.windowMs,
  };
}

function bucket(state: BucketState | undefined, r: RateLimitRequest, now: number): InProcessResult {
  const interval = r.windowMs / r.limit;
  const tat = Math.max(state?.tat ?? now, now);
  const next = r.op === 'refund' ? Math.max(now, tat - r.cost * interval) : tat + r.cost * interval;
  const fits = next - now <= r.windowMs + EPSILON_MS;
  const keep = r.op === 'refund' || (r.op === 'hit' && fits) ? next : tat;
  const allowed = r.op === 'refund' || fits;
  const answer = reply(
    allowed,
    (r.windowMs - (keep - now)) / interval,
    keep - now,
    allowed ? 0 : next - now - r.windowMs,
  );
  if (keep <= now) return { reply: answer, state: undefined, expiresAt: 0 };
  const s = state ?? { kind: 'token-bucket' as const, tat: keep };
  s.tat = keep;
  return { reply: answer, state: s, expiresAt: keep };
}
