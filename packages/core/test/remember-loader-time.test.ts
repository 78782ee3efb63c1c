import { performance } from 'node:perf_hooks';
import { Cache, type OperationTraceContext, operationChannel } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const LOADER_MS = 60;
const slowLoader = (value: string) => () => new Promise<string>((r) => setTimeout(() => r(value), LOADER_MS));

/** Each finished `remember` trace: its context and its duration measured from start to asyncEnd. */
function recordRemembers() {
  const started = new WeakMap<object, number>();
  const done: { context: OperationTraceContext; durationMs: number }[] = [];
  const handlers = {
    start: (m: unknown) => started.set(m as object, performance.now()),
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (m: unknown) => {
      const context = m as OperationTraceContext;
      if (context.operation === 'remember')
        done.push({ context: { ...context }, durationMs: performance.now() - (started.get(context) ?? 0) });
    },
    error: () => {},
  };
  operationChannel.subscribe(handlers);
  return { done, stop: () => operationChannel.unsubscribe(handlers) };
}

describe('remember traces say how long they waited for the loader (loaderMs)', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('a miss reports its loader run; a hit reports none', async () => {
    const r = recordRemembers();
    stop = r.stop;
    const cache = new Cache({ store: createChaosStore(), prefix: 'lt:' });
    await cache.remember('k', '1m', slowLoader('v'));
    await cache.remember('k', '1m', slowLoader('other'));
    const [miss, hit] = r.done;
    expect(miss?.context.hit).toBe(false);
    expect(miss?.context.loaderMs).toBeGreaterThanOrEqual(LOADER_MS - 5);
    expect(miss?.context.loaderMs).toBeLessThanOrEqual(miss?.durationMs as number);
    expect(hit?.context.hit).toBe(true);
    expect(hit?.context.loaderMs).toBeUndefined();
  });

  it('a call that joins the flight of the same key counts its wait for that loader', async () => {
    const r = recordRemembers();
    stop = r.stop;
    const cache = new Cache({ store: createChaosStore(), prefix: 'lt:' });
    let runs = 0;
    const loader = () => {
      runs++;
      return slowLoader('v')();
    };
    await Promise.all([cache.remember('j', '1m', loader), cache.remember('j', '1m', loader)]);
    expect(runs).toBe(1);
    expect(r.done).toHaveLength(2);
    for (const { context, durationMs } of r.done) {
      expect(context.loaderMs).toBeGreaterThanOrEqual(LOADER_MS - 5);
      expect(context.loaderMs).toBeLessThanOrEqual(durationMs);
    }
  });

  it('a failing loader is timed too; rememberWithStatus reports the same field', async () => {
    const r = recordRemembers();
    stop = r.stop;
    const cache = new Cache({ store: createChaosStore(), prefix: 'lt:' });
    const failing = () => new Promise<string>((_, reject) => setTimeout(() => reject(new Error('db down')), LOADER_MS));
    await expect(cache.remember('f', '1m', failing)).rejects.toThrow('db down');
    const status = await cache.rememberWithStatus('s', '1m', slowLoader('v'));
    expect(status.status).toBe('miss');
    expect(r.done.map((d) => d.context.loaderMs)).toEqual([
      expect.toSatisfy((ms: number) => ms >= LOADER_MS - 5),
      expect.toSatisfy((ms: number) => ms >= LOADER_MS - 5),
    ]);
  });

  it('a stale value served within its grace reports no wait (the refresh runs in the background)', async () => {
    const r = recordRemembers();
    stop = r.stop;
    const cache = new Cache({ store: createChaosStore(), prefix: 'lt:' });
    await cache.remember('g', 20, () => 'old', { grace: '1m' });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await cache.remember('g', 20, slowLoader('new'), { grace: '1m' })).toBe('old');
    expect(r.done.at(-1)?.context).toMatchObject({ hit: true, graced: true });
    expect(r.done.at(-1)?.context.loaderMs).toBeUndefined();
  });
});
