import type { TtlMs } from '../../contract/store';
import { normalizeTags, unionTags } from '../../tags/tag-policy';
import { parseTtl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import type { RememberOptions } from '../options';
import type { View } from '../view';
import { type MissLock, missLock } from './miss-lock';
import {
  type BackoffPolicy,
  backoff,
  loadLimit,
  type RefreshAheadPolicy,
  refreshAheadPolicy,
  timeouts,
} from './option-parsers';

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
    if (options.timeout !== undefined) Object.assign(policy, timeouts(options.timeout));
    if (options.failure !== undefined) policy.failure = backoff(options.failure);
    if (options.refreshAhead !== undefined) policy.refreshAhead = refreshAheadPolicy(options.refreshAhead);
    if (options.maxConcurrentLoads !== undefined) policy.maxConcurrentLoads = loadLimit(options.maxConcurrentLoads);
  }
  return policy;
}
