// One app instance of the cross-process rate-limit tests (child_process.fork with tsx): a Cache on
// the backend in LARDER_RL_SPEC. Runs the bursts the parent asks for, each with the instance's
// clock shifted by the burst's offset (Date.now only: what an app server's wrong clock changes),
// and answers their decisions.
import { Cache, type RateLimiterOptions } from '@larder/core';
import type { Burst, BurstResult, WorkerSpec } from './fleet';
import { storeFor } from './stores';

const spec = JSON.parse(process.env.LARDER_RL_SPEC ?? '{}') as WorkerSpec;
const realNow = Date.now.bind(Date);
let clockOffsetMs = 0;
Date.now = () => realNow() + clockOffsetMs;

async function run(cache: Cache, burst: Burst): Promise<BurstResult> {
  clockOffsetMs = burst.clockOffsetMs ?? 0;
  const limiter = cache.rateLimiter(burst.limiter as RateLimiterOptions);
  const decisions: BurstResult['decisions'] = [];
  const storeDown: string[] = [];
  limiter.on('storeDown', ({ error }) => storeDown.push(String(error)));
  const end = burst.durationMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + burst.durationMs;
  const caller = async () => {
    for (let i = 0; i < (burst.hits ?? Number.POSITIVE_INFINITY) && performance.now() < end; i++) {
      const d = await limiter.hit(burst.key, burst.cost === undefined ? undefined : { cost: burst.cost });
      decisions.push([d.allowed ? 1 : 0, realNow(), d.resetMs, d.retryAfterMs, d.source]);
    }
  };
  await Promise.all(Array.from({ length: burst.callers }, caller));
  return storeDown.length > 0 ? { decisions, storeDown: [...new Set(storeDown)] } : { decisions };
}

const cache = new Cache({ store: storeFor(spec), prefix: spec.prefix, timeout: '60s' });
process.on('message', (message: Burst) => {
  run(cache, message).then(
    (result) => process.send?.({ id: message.id, ...result }),
    (error: Error) => process.send?.({ id: message.id, decisions: [], error: `${error.name}: ${error.message}` }),
  );
});
cache.getStore().then(
  () => process.send?.('ready'),
  (error: Error) => process.send?.(`failed ${error.message}`),
);
process.on('SIGTERM', () => {
  cache.close().finally(() => process.exit(0));
});
