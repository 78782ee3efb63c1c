import { UnsupportedOperationError } from '@larder/core';
import { decideInProcess, type InProcessResult, type InProcessState, type RateLimitRequest } from '@larder/core/driver';

/** Bytes a sliding window's log costs per unit (one float64 admission time). */
const BYTES_PER_UNIT = 8;
/** Bytes counted for a fixed window or token bucket state. */
const STATE_BYTES = 32;

/**
 * Rate limits on the memory store: core's in-process algorithms on the store's own entries (so
 * they live under the cache's prefix, count against its bounds and go with `clear`), decided
 * synchronously on the process's monotonic clock (`performance.now()`, the store's expiry clock).
 */
export function decideInMemory(stored: unknown, request: RateLimitRequest, maxValueBytes: number): InProcessResult {
  if (request.algorithm === 'sliding' && request.limit * BYTES_PER_UNIT > maxValueBytes) {
    throw new UnsupportedOperationError(
      `a sliding rate limit of ${request.limit}`,
      'memory',
      `its log of ${request.limit} admission times would pass maxValueBytes (${maxValueBytes})`,
    );
  }
  const state =
    typeof stored === 'object' && stored !== null && 'kind' in stored ? (stored as InProcessState) : undefined;
  return decideInProcess(state, request, performance.now());
}

/** Bytes a rate-limit state is counted as against the store's `maxBytes`. */
export function stateBytes(state: InProcessState): number {
  return state.kind === 'sliding' ? state.times.byteLength + STATE_BYTES : STATE_BYTES;
}
