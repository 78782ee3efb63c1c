import { describe, expect, it } from 'vitest';
import { downBound, FULL, SHORT, scaled, slowBound } from '../src/remember/lengths';

describe('remember bench lengths', () => {
  it('--full runs the issue’s lengths and bounds scenario 3 by outage ÷ backoff + instances', () => {
    expect(FULL.down).toMatchObject({ ms: 60_000, rps: 200, loaderMs: 1 });
    expect(FULL.hot).toMatchObject({ ttl: 10_000, ms: 120_000 });
    expect(FULL.slow).toMatchObject({ loaderMs: 3000, soft: 100 });
    expect(downBound(FULL.down, 8)).toBe('≤ 128 runs (60 s / 500 ms + 8)');
    expect(downBound(SHORT.down, 8)).toBe('≤ 14 runs (3 s / 500 ms + 8)');
    expect(slowBound(SHORT.slow)).toBe('1 run; p99 ≤ 120 ms');
  });

  it('scaled multiplies durations, not rates, the soft timeout nor the backoff; rejects a non-positive factor', () => {
    const small = scaled(SHORT, 0.1);
    expect(small.slow).toEqual({ loaderMs: 300, soft: 100, callersPerInstance: 5 });
    expect(small.down).toEqual({ ms: 300, rps: 100, loaderMs: 1, backoff: 500 });
    expect(small.hot).toMatchObject({ ttl: 100, ms: 400, loaderMs: 10, rps: 50, at: 0.8 });
    expect(scaled(SHORT, 1)).toBe(SHORT);
    for (const bad of [0, -1, Number.NaN]) expect(() => scaled(SHORT, bad)).toThrow('--scale');
  });
});
