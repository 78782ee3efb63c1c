// One app instance of the remember fleet test, in its own OS process (child_process.fork with
// tsx): a Cache on the Redis of LARDER_FLEET_URL; it runs the parent's requests over IPC.
import { performance } from 'node:perf_hooks';
import type { Cache as CacheType, LoaderContext } from '@larder/core';
import type { Request, SourceMode } from './protocol';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The loader of `mode`: never settles, fails at once, or answers after `sourceMs`. */
function source(mode: SourceMode, sourceMs: number, counts: { runs: number; aborted: number }) {
  return (context: LoaderContext): Promise<string> => {
    counts.runs++;
    context.signal.addEventListener('abort', () => counts.aborted++);
    if (mode === 'hung') return new Promise(() => {});
    if (mode === 'down') return Promise.reject(new Error('source down'));
    return sleep(sourceMs).then(() => `v${Date.now()}`);
  };
}

const code = (error: unknown) => (error as { code?: string }).code ?? String(error);

async function handle(cache: CacheType, request: Request): Promise<object> {
  const counts = { runs: 0, aborted: 0 };
  if (request.op === 'once') {
    const loader = source(request.mode, request.sourceMs ?? 0, counts);
    const outcomes = await Promise.all(
      Array.from({ length: request.callers }, async () => {
        const started = performance.now();
        const result = await cache.remember(request.key, '1m', loader, request.options).then(
          () => 'ok',
          (error: unknown) => code(error),
        );
        return { result, ms: performance.now() - started };
      }),
    );
    // The abort listener runs with the rejection: both are in by now.
    return { runs: counts.runs, aborted: counts.aborted, outcomes };
  }
  const loader = source(request.mode, request.sourceMs, counts);
  const latencies: number[] = [];
  const end = performance.now() + request.ms;
  const gap = 1000 / request.rps;
  const calls: Promise<unknown>[] = [];
  for (let next = performance.now(); next < end; next += gap) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    const started = performance.now();
    calls.push(
      cache.remember(request.key, request.ttl, loader, request.options).then(
        () => latencies.push(performance.now() - started),
        () => latencies.push(performance.now() - started),
      ),
    );
  }
  await Promise.all(calls);
  return { runs: counts.runs, latencies };
}

async function main(): Promise<void> {
  const { Cache } = await import('@larder/core');
  const { createRedisStore } = await import('@larder/redis');
  const cache = new Cache({ store: createRedisStore({ url: process.env.LARDER_FLEET_URL }), prefix: 'fleet:' });
  process.on('message', (message: Request) => {
    handle(cache, message).then(
      (reply) => process.send?.({ id: message.id, ...reply }),
      (error: unknown) => process.send?.({ id: message.id, error: String((error as Error)?.message ?? error) }),
    );
  });
  await cache.has('warm-up');
  process.send?.('ready');
}

void main();
