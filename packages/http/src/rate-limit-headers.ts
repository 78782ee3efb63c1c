import { ConfigError, type RateLimitDecision } from '@larder/core';

/** The part of a `RateLimiter` (`cache.rateLimiter()` in `@larder/core`) a rate-limit middleware uses. */
export interface RateLimiterLike {
  readonly limit: number;
  readonly windowMs: number;
  hit(key: string, options?: { cost?: number }): Promise<RateLimitDecision>;
}

/** The IETF rate-limit headers of one policy (draft-ietf-httpapi-ratelimit-headers). */
export interface RateLimitHeaders {
  /** `RateLimit-Policy`: `"<policy>";q=<limit>;w=<window s>`. */
  readonly policy: string;
  /** `RateLimit`: `"<policy>";r=<remaining>;t=<reset s>`. */
  rateLimit(decision: RateLimitDecision): string;
  /** `Retry-After` in seconds, at least 1 (`0` would invite a retry that is denied again). */
  retryAfter(decision: RateLimitDecision): string;
}

// A structured-field string (RFC 9651): printable ASCII, with `"` and `\` escaped.
const POLICY_NAME = /^[\x20-\x7e]*$/;

/**
 * Checks a rate-limit middleware's options (`ConfigError` naming the bad one) and builds its
 * headers: shared by the Express and Hono middleware, so both answer alike.
 */
export function rateLimitHeaders(options: { limiter?: unknown; key?: unknown; policy?: unknown }): RateLimitHeaders {
  const limiter = options.limiter as RateLimiterLike | undefined;
  const name = options.policy ?? 'default';
  if (typeof limiter?.hit !== 'function')
    throw new ConfigError('rateLimit needs a limiter (cache.rateLimiter())', 'limiter');
  if (typeof options.key !== 'function')
    throw new ConfigError('rateLimit needs a key function, e.g. (req) => req.ip', 'key');
  if (typeof name !== 'string' || name.length === 0 || !POLICY_NAME.test(name))
    throw new ConfigError(`rateLimit policy must be a non-empty printable ASCII name, got ${String(name)}`, 'policy');
  const quoted = `"${name.replace(/[\\"]/g, '\\$&')}"`;
  return {
    policy: `${quoted};q=${limiter.limit};w=${Math.ceil(limiter.windowMs / 1000)}`,
    rateLimit: (decision) => `${quoted};r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`,
    retryAfter: (decision) => String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
  };
}
