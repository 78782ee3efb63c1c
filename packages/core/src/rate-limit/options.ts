import { describe, InvalidArgumentError } from '../contract/errors';
import type { RateLimitAlgorithm } from '../contract/rate-limit';
import { parseTtl, type Ttl } from '../values/ttl';

/** What a limiter does when its store fails or does not answer within the cache's timeout. */
export type StoreDownMode =
  /** Deny (the default: a limit that protects something keeps protecting it). */
  | 'closed'
  /** Allow. */
  | 'open'
  /** Decide in this process, with the limit divided by `instances`. */
  | 'local';

/** Options of `cache.rateLimiter()`. */
export interface RateLimiterOptions {
  /** Units admitted per window across every app instance; for the token bucket its capacity, refilled at `limit` per window. A positive safe integer. */
  limit: number;
  /** The window: milliseconds or a duration such as `'1s'`, `'1m'`, `'1h'`. */
  window: Ttl;
  /** How hits are counted (see the README: what each admits at a window edge). @default 'fixed' */
  algorithm?: RateLimitAlgorithm;
  /** When the store is down: `'closed'` denies, `'open'` allows, `'local'` limits in-process at `limit / instances`. @default 'closed' */
  onStoreDown?: StoreDownMode;
  /** App instances sharing this limit: `'local'` admits `floor(limit / instances)` per instance. @default 1 */
  instances?: number;
  /** Keeps this limiter's counts apart from other limiters' on the same keys (limiters with the same name, algorithm and key share a count). */
  name?: string;
}

/** The options after validation. */
export interface ResolvedRateLimit {
  readonly limit: number;
  readonly windowMs: number;
  readonly algorithm: RateLimitAlgorithm;
  readonly onStoreDown: StoreDownMode;
  readonly instances: number;
  /** Key segment after the reserved prefix: `<algorithm>:` or `<algorithm>:<name>:`. */
  readonly segment: string;
}

const ALGORITHMS: readonly RateLimitAlgorithm[] = ['fixed', 'sliding', 'token-bucket'];
const MODES: readonly StoreDownMode[] = ['closed', 'open', 'local'];

/** Validates the options once (InvalidArgumentError naming the option); nothing is stored. */
export function resolveRateLimit(options: RateLimiterOptions): ResolvedRateLimit {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`rateLimiter needs an options object, got ${describe(options)}`, 'options');
  }
  const { limit, window, algorithm = 'fixed', onStoreDown = 'closed', instances = 1, name } = options;
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new InvalidArgumentError(`rateLimiter limit must be a positive integer, got ${describe(limit)}`, 'limit');
  }
  let windowMs: number;
  try {
    windowMs = parseTtl(window);
  } catch {
    throw new InvalidArgumentError(
      `rateLimiter window must be a positive number of milliseconds or a duration like '1s', '1m', '1h', got ${describe(window)}`,
      'window',
    );
  }
  if (!ALGORITHMS.includes(algorithm)) {
    throw new InvalidArgumentError(
      `rateLimiter algorithm must be one of ${ALGORITHMS.join(', ')}, got ${describe(algorithm)}`,
      'algorithm',
    );
  }
  if (!MODES.includes(onStoreDown)) {
    throw new InvalidArgumentError(
      `rateLimiter onStoreDown must be one of ${MODES.join(', ')}, got ${describe(onStoreDown)}`,
      'onStoreDown',
    );
  }
  if (!Number.isSafeInteger(instances) || instances <= 0) {
    throw new InvalidArgumentError(
      `rateLimiter instances must be a positive integer, got ${describe(instances)}`,
      'instances',
    );
  }
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.includes(':'))) {
    throw new InvalidArgumentError(
      `rateLimiter name must be a non-empty string without ':', got ${describe(name)}`,
      'name',
    );
  }
  const segment = name === undefined ? `${algorithm}:` : `${algorithm}:${name}:`;
  return { limit, windowMs, algorithm, onStoreDown, instances, segment };
}

/** Validates a hit's cost: an integer from 1 to the limit (InvalidArgumentError otherwise). */
export function checkCost(cost: unknown, limit: number): number {
  if (cost === undefined) return 1;
  if (!Number.isSafeInteger(cost) || (cost as number) < 1 || (cost as number) > limit) {
    throw new InvalidArgumentError(
      `A rate limit cost must be an integer from 1 to the limit (${limit}), got ${describe(cost)}`,
      'cost',
    );
  }
  return cost as number;
}
