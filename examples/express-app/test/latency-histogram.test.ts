import { describe, expect, it } from 'vitest';
import { histogram, merge, observe, quantile } from '../src/latency-histogram';

describe('the live page latency histogram', () => {
  it('reads percentiles to within 15 % of the exact value, from 1 µs to seconds', () => {
    const h = histogram();
    const samples = Array.from({ length: 1000 }, (_, i) => 0.001 * 1.013 ** i); // 1 µs .. ~400 ms
    for (const ms of samples) observe(h, ms);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = samples[Math.ceil(q * samples.length) - 1] as number;
      const read = quantile(h, q) as number;
      expect(read).toBeGreaterThanOrEqual(exact * 0.999);
      expect(read).toBeLessThanOrEqual(exact * 1.15 * 1.001);
    }
  });

  it('is empty until something is observed; merging adds counts; out-of-range values land in the end buckets', () => {
    const a = histogram();
    expect(quantile(a, 0.5)).toBeUndefined();
    observe(a, 0);
    const b = histogram();
    observe(b, 10 * 60_000);
    merge(a, b);
    expect(quantile(a, 0.5)).toBe(0.001);
    expect(quantile(a, 1) as number).toBeGreaterThan(30_000);
  });
});
