import type { TtlMs } from '../../contract/store';
import { normalizeTags, unionTags } from '../../tags/tag-policy';
import { parseTtl } from '../../values/ttl';
import type { Binding } from '../binding';
import type { Engine } from '../engine';
import type { RememberOptions } from '../options';
import type { View } from '../view';
import { type MissLock, missLock } from './miss-lock';

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
  const policy: RememberPolicy = { ttlMs, graceMs: 0, lock: undefined, tags: view.tags, hardMs: undefined };
  if (options !== undefined) {
    policy.graceMs = options.grace === undefined || ttlMs === undefined ? 0 : parseTtl(options.grace);
    if (options.lock) policy.lock = missLock(engine, view, binding, key, options.lock);
    if (options.tags !== undefined) policy.tags = unionTags(policy.tags, normalizeTags(options.tags));
    if (options.timeout?.hard !== undefined) policy.hardMs = parseTtl(options.timeout.hard);
  }
  if (policy.tags !== undefined) engine.values.checkTaggable();
  return policy;
}
