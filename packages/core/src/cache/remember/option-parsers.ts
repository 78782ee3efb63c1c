import type { RememberDefaults } from '../../config/remember-defaults';
import { InvalidArgumentError } from '../../contract/errors';
import { parseTtl, type Ttl } from '../../values/ttl';

// The checks of `remember`'s options, without a store: per call (policy.ts) and once for the
// defaults of a cache (`remember` in its options, or its store config).

const DEFAULT_BACKOFF_MS = 1000;
const DEFAULT_MAX_BACKOFF_MS = 60_000;

/** The parsed `failure` option: the first window and the longest, in ms. */
export interface BackoffPolicy {
  backoffMs: number;
  maxMs: number;
}

/** Checks a cache's `remember` defaults once, at construction (the same typed errors as a call's options). */
export function checkRememberDefaults(defaults: RememberDefaults): void {
  if (defaults.grace !== undefined) parseTtl(defaults.grace);
  if (defaults.timeout !== undefined) timeouts(defaults.timeout);
  if (defaults.failure !== undefined) backoff(defaults.failure);
  if (defaults.refreshAhead !== undefined) refreshAheadPolicy(defaults.refreshAhead);
  if (defaults.maxConcurrentLoads !== undefined) loadLimit(defaults.maxConcurrentLoads);
}

/** `timeout.soft` and `timeout.hard`: positive TTLs (`InvalidTtlError`), `soft` below `hard` (`InvalidArgumentError`). */
export function timeouts(timeout: { soft?: Ttl; hard?: Ttl }): {
  softMs: number | undefined;
  hardMs: number | undefined;
} {
  const policy = {
    hardMs: timeout.hard === undefined ? undefined : parseTtl(timeout.hard),
    softMs: timeout.soft === undefined ? undefined : parseTtl(timeout.soft),
  };
  if (policy.softMs !== undefined && policy.hardMs !== undefined && policy.softMs >= policy.hardMs) {
    throw new InvalidArgumentError(
      `timeout.soft (${policy.softMs}ms) must be below timeout.hard (${policy.hardMs}ms)`,
      'timeout.soft',
    );
  }
  return policy;
}

/** `failure`: positive TTLs (`InvalidTtlError`), `max` not below `backoff` (`InvalidArgumentError`). */
export function backoff(failure: { backoff?: Ttl; max?: Ttl }): BackoffPolicy {
  const backoffMs = failure.backoff === undefined ? DEFAULT_BACKOFF_MS : parseTtl(failure.backoff);
  const maxMs = failure.max === undefined ? Math.max(DEFAULT_MAX_BACKOFF_MS, backoffMs) : parseTtl(failure.max);
  if (maxMs < backoffMs) {
    throw new InvalidArgumentError(
      `failure.max (${maxMs}ms) must not be below failure.backoff (${backoffMs}ms)`,
      'failure.max',
    );
  }
  return { backoffMs, maxMs };
}

/** The parsed `refreshAhead` option: fractions of the TTL. */
export interface RefreshAheadPolicy {
  at: number;
  jitter: number;
}

/** `refreshAhead`: `at` in (0, 1), `jitter` in [0, at) (`InvalidArgumentError`). */
export function refreshAheadPolicy(option: { at: number; jitter?: number }): RefreshAheadPolicy {
  const { at, jitter = 0 } = option;
  if (typeof at !== 'number' || !(at > 0 && at < 1)) {
    throw new InvalidArgumentError(
      `refreshAhead.at must be a fraction of the TTL in (0, 1), got ${String(at)}`,
      'refreshAhead.at',
    );
  }
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < at)) {
    throw new InvalidArgumentError(
      `refreshAhead.jitter must be in [0, at), got ${String(jitter)}`,
      'refreshAhead.jitter',
    );
  }
  return { at, jitter };
}

/** `maxConcurrentLoads`: a positive integer (`InvalidArgumentError`). */
export function loadLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(
      `maxConcurrentLoads must be a positive integer, got ${String(limit)}`,
      'maxConcurrentLoads',
    );
  }
  return limit;
}
