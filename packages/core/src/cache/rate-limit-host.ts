import type { RateLimitHost } from '../rate-limit/limiter';
import { traceOperation } from '../util/tracing';
import { RESERVED_KEY_PREFIX } from '../values/key-policy';
import type { Engine } from './engine';
import type { View } from './view';

/** Sub-prefix of rate-limit keys, after the store prefix (before the namespace path, as for locks). */
export const RATE_LIMIT_KEY_PREFIX = `${RESERVED_KEY_PREFIX}rate:`;

/** What a `RateLimiter` needs from the cache whose engine is `engine`, seen through `view`. */
export function rateLimitHost(engine: Engine, view: View): RateLimitHost {
  return {
    store: () => engine.binding?.store ?? engine.store(),
    keyPrefix: `${engine.basePrefix}${RATE_LIMIT_KEY_PREFIX}`,
    path: view.path,
    // The facade's timer for this store's calls: none when the store bounds them itself (capabilities.deadlineMs).
    timeoutMs: (store) => {
      const binding = engine.binding;
      if (binding?.store === store) return binding.timeoutMs;
      return store.capabilities.inProcess ? 0 : engine.timeoutMs;
    },
    report: (key, error) => {
      engine.report(view, 'rateLimit', key, error);
    },
    breaker: (store) => (engine.binding?.store === store ? engine.binding.breaker : undefined),
    trace: (operation, key, run) => traceOperation(engine, operation, 1, view.path + key, undefined, run),
  };
}
