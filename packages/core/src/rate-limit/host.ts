import type { OperationPath } from '../cache/operations/operation';
import { RESERVED_KEY_PREFIX } from '../values/key-policy';
import type { RateLimitHost } from './limiter';

/** Sub-prefix of rate-limit keys, after the store prefix (before the namespace path, as for locks). */
export const RATE_LIMIT_KEY_PREFIX = `${RESERVED_KEY_PREFIX}rate:`;

/** What a `RateLimiter` needs from the cache whose operation path is `ops`. */
export function rateLimitHost(ops: OperationPath): RateLimitHost {
  const context = ops.context;
  return {
    store: () => context.store ?? context.ready,
    keyPrefix: `${context.basePrefix}${RATE_LIMIT_KEY_PREFIX}`,
    path: ops.path,
    timeoutMs: (store) => (store.capabilities.inProcess ? 0 : context.configuredTimeoutMs),
    report: (key, error) => {
      ops.report('rateLimit', key, error);
    },
  };
}
