import { InvalidArgumentError } from '../../contract/errors';
import type { TtlMs } from '../../contract/store';
import { normalizeTags, unionTags } from '../../tags/tag-policy';
import { parseTtl, type Ttl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import type { RememberOptions } from '../options';
import type { View } from '../view';
import type { BackoffPolicy } from './backoff';
import { type MissLock, missLock } from './miss-lock';

const DEFAULT_BACKOFF_MS = 1000;
const DEFAULT_MAX_BACKOFF_MS = 60_000;

/** A `remember` call's options, parsed and checked once before anything is read. */
export interface RememberPolicy {
  ttlMs: TtlMs;
  /** How long the store keeps the value past its TTL (0: no grace). */
  graceMs: number;
  lock: MissLock | undefined;
  /** Tags the stored value carries (the view's and the options'). */
  tags: readonly string[] | undefined;
  /** The loader's hard timeout in ms (`timeout.hard`). */
  hardMs: number | undefined;
  /** How long a caller with a stale value waits for the refresh (`timeout.soft`; `undefined`: not at all). */
  softMs: number | undefined;
  /** The fleet-wide backoff after loader failures (`failure`). */
  failure: BackoffPolicy | undefined;
  /** When a hit starts a background refresh (`refreshAhead`). */
  refreshAhead: RefreshAheadPolicy | undefined;
  /** Most background refreshes the cache runs at once (`maxConcurrentLoads`). */
  maxConcurrentLoads: number | undefined;
}

/** Parses `options` for a `remember` of `key` (typed errors for bad input, before any store call). */
export function rememberPolicy(
  engine: Engine,
  view: View,
  binding: Binding,
  key: string,
  ttlMs: TtlMs,
  options: RememberOptions | undefined,
): RememberPolicy {
  const policy: RememberPolicy = {
    ttlMs,
    graceMs: 0,
    lock: undefined,
    tags: view.tags,
    hardMs: undefined,
    softMs: undefined,
    failure: undefined,
    refreshAhead: undefined,
    maxConcurrentLoads: undefined,
  };
  if (options !== undefined) {
    policy.graceMs = options.grace === undefined || ttlMs === undefined ? 0 : parseTtl(options.grace);
    if (options.lock) policy.lock = missLock(engine, view, binding, key, options.lock);
    if (options.tags !== undefined) policy.tags = unionTags(policy.tags, normalizeTags(options.tags));
    if (options.timeout !== undefined) timeouts(policy, options.timeout);
    if (options.failure !== undefined) policy.failure = backoff(options.failure);
    if (options.refreshAhead !== undefined) policy.refreshAhead = refreshAheadPolicy(options.refreshAhead);
    if (options.maxConcurrentLoads !== undefined) policy.maxConcurrentLoads = loadLimit(options.maxConcurrentLoads);
  }
  if (policy.tags !== undefined) engine.values.checkTaggable();
  return policy;
}

/** `timeout.soft` and `timeout.hard`: positive TTLs (`InvalidTtlError`), `soft` below `hard` (`InvalidArgumentError`). */
function timeouts(policy: RememberPolicy, timeout: { soft?: Ttl; hard?: Ttl }): void {
  if (timeout.hard !== undefined) policy.hardMs = parseTtl(timeout.hard);
  if (timeout.soft !== undefined) policy.softMs = parseTtl(timeout.soft);
  if (policy.softMs !== undefined && policy.hardMs !== undefined && policy.softMs >= policy.hardMs) {
    throw new InvalidArgumentError(
      `timeout.soft (${policy.softMs}ms) must be below timeout.hard (${policy.hardMs}ms)`,
      'timeout.soft',
    );
  }
}

/** `failure`: positive TTLs (`InvalidTtlError`), `max` not below `backoff` (`InvalidArgumentError`). */
function backoff(failure: { backoff?: Ttl; max?: Ttl }): BackoffPolicy {
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
function loadLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(
      `maxConcurrentLoads must be a positive integer, got ${String(limit)}`,
      'maxConcurrentLoads',
    );
  }
  return limit;
}
