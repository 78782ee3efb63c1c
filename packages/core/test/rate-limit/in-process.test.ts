import { describe, expect, it } from 'vitest';
import type { RateLimitAlgorithm, RateLimitOperation, RateLimitRequest } from '../../src/contract/rate-limit';
import { decideInProcess, type InProcessState } from '../../src/rate-limit/in-process';

// The in-process algorithms (memory driver, 'local' fallback) on a clock the test moves.
function limiter(algorithm: RateLimitAlgorithm, limit: number, windowMs: number) {
  let state: InProcessState | undefined;
  let expiresAt = 0;
  return (op: RateLimitOperation, now: number, cost = 1) => {
    const request: RateLimitRequest = { op, algorithm, limit, windowMs, cost };
    const result = decideInProcess(expiresAt > now ? state : undefined, request, now);
    state = result.state;
    expiresAt = result.expiresAt;
    return result.reply;
  };
}

const admitted = (decide: ReturnType<typeof limiter>, now: number, hits: number) =>
  Array.from({ length: hits }, () => decide('hit', now)).filter((r) => r.allowed).length;

describe('in-process rate-limit algorithms', () => {
  it('fixed: the window opens at its first hit; the limit again right after its edge (the 2× edge burst)', () => {
    const decide = limiter('fixed', 10, 1000);
    expect(admitted(decide, 0, 1)).toBe(1);
    expect(admitted(decide, 999, 20)).toBe(9);
    expect(decide('hit', 999)).toMatchObject({ allowed: false, remaining: 0, resetMs: 1, retryAfterMs: 1 });
    expect(admitted(decide, 1000, 20)).toBe(10);
  });

  it('fixed: a hit that does not fit is not counted, so a smaller one still fits', () => {
    const decide = limiter('fixed', 10, 1000);
    expect(decide('hit', 0, 7).allowed).toBe(true);
    expect(decide('hit', 1, 5)).toMatchObject({ allowed: false, remaining: 3 });
    expect(decide('hit', 2, 3)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('sliding: no burst at a window edge — only the units a window old are free again', () => {
    const decide = limiter('sliding', 10, 1000);
    expect(admitted(decide, 0, 1)).toBe(1);
    expect(admitted(decide, 999, 20)).toBe(9);
    // At the edge only the first unit (admitted at 0) has left the window.
    expect(admitted(decide, 1000, 20)).toBe(1);
    expect(decide('hit', 1000)).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 999 });
    expect(admitted(decide, 1999, 20)).toBe(9);
  });

  it('sliding: never more than the limit in any window-long stretch, over a random load', () => {
    const decide = limiter('sliding', 5, 100);
    const times: number[] = [];
    let now = 0;
    for (let i = 0; i < 2000; i++) {
      now += Math.floor(Math.random() * 30);
      if (decide('hit', now).allowed) times.push(now);
    }
    for (const t of times) expect(times.filter((u) => u > t - 100 && u <= t).length).toBeLessThanOrEqual(5);
  });

  it('token bucket: the full bucket, then one token per window/limit', () => {
    const decide = limiter('token-bucket', 10, 1000);
    expect(admitted(decide, 0, 20)).toBe(10);
    expect(decide('hit', 0)).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 100, resetMs: 1000 });
    expect(admitted(decide, 99, 5)).toBe(0);
    expect(admitted(decide, 100, 5)).toBe(1);
    expect(admitted(decide, 350, 5)).toBe(2);
    expect(admitted(decide, 5000, 20)).toBe(10);
  });

  it('token bucket: fractional intervals (limit 3 per second) neither gain nor lose a token over time', () => {
    const decide = limiter('token-bucket', 3, 1000);
    let total = 0;
    for (let now = 0; now <= 60_000; now += 5) total += admitted(decide, now, 1);
    // 3 at once, then 3 a second for 60 s.
    expect(total).toBe(3 + 180);
  });

  it('peek counts nothing, refund gives units back, reset forgets', () => {
    for (const algorithm of ['fixed', 'sliding', 'token-bucket'] as const) {
      const decide = limiter(algorithm, 3, 1000);
      expect(decide('peek', 0)).toMatchObject({ allowed: true, remaining: 3 });
      expect(admitted(decide, 0, 5)).toBe(3);
      expect(decide('peek', 0).allowed).toBe(false);
      expect(decide('refund', 0, 2)).toMatchObject({ allowed: true, remaining: 2 });
      expect(admitted(decide, 0, 5)).toBe(2);
      expect(decide('reset', 0)).toMatchObject({ allowed: true, remaining: 3 });
      expect(admitted(decide, 0, 5)).toBe(3);
    }
  });
});
