// Assertions shared by the cross-process rate-limit tests.
import { expect } from 'vitest';
import { allDecisions, type BurstResult } from './fleet';

/** Most admitted within any `windowMs` stretch of answer times, minus `slackMs` for answers in flight. */
export function maxInSlidingWindow(results: BurstResult[], windowMs: number, slackMs: number): number {
  const times = allDecisions(results)
    .filter((d) => d[0] === 1)
    .map((d) => d[1]);
  let most = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[start]! <= times[end]! - (windowMs - slackMs)) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** At most `limit` admitted, and at least 95% of it; every decision made by the store. */
export function expectExact(results: BurstResult[], limit: number): void {
  const storeDown = results.flatMap((r) => r.storeDown ?? []);
  expect(new Set(allDecisions(results).map((d) => d[4])), `store down: ${storeDown.join('; ')}`).toEqual(
    new Set(['store']),
  );
  const admitted = allDecisions(results).filter((d) => d[0] === 1).length;
  expect(admitted).toBeLessThanOrEqual(limit);
  expect(admitted).toBeGreaterThanOrEqual(Math.ceil(limit * 0.95));
}

/** Span of the answers in ms (first to last). */
export function span(results: BurstResult[]): number {
  const d = allDecisions(results);
  return d.length === 0 ? 0 : d[d.length - 1]![1] - d[0]![1];
}
