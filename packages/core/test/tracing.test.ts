import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import {
  countHit,
  type OperationTraceContext,
  operationChannel,
  publishTopology,
  type TopologyTraceEvent,
  traceOperation,
  valueHit,
} from '../src/util/tracing';

const source = { name: 'main', driver: 'memory', traceKeys: false };

/** Records every event of `larder.operation` with a snapshot of the context at that moment. */
function record() {
  const seen: { event: string; context: OperationTraceContext }[] = [];
  const on = (event: string) => (message: unknown) =>
    seen.push({ event, context: { ...(message as OperationTraceContext) } });
  const handlers = {
    start: on('start'),
    end: on('end'),
    asyncStart: on('asyncStart'),
    asyncEnd: on('asyncEnd'),
    error: on('error'),
  };
  operationChannel.subscribe(handlers);
  return { seen, stop: () => operationChannel.unsubscribe(handlers) };
}

describe('larder.operation', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('publishes start, end, asyncStart, asyncEnd with the context completed before asyncStart', async () => {
    const r = record();
    stop = r.stop;
    expect(operationChannel.hasSubscribers).toBe(true);
    const value = await traceOperation(source, 'get', 1, 'user:1', valueHit, async () => 'v');
    expect(value).toBe('v');
    expect(r.seen.map((s) => s.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(r.seen[0]?.context).toEqual({ operation: 'get', store: 'main', driver: 'memory', keyCount: 1 });
    expect(r.seen[2]?.context).toMatchObject({ hit: true, tier: 'l2', result: 'v' });
    expect(r.seen[2]?.context.key).toBeUndefined();
  });

  it('adds the key only with traceKeys, and counts batch hits', async () => {
    const r = record();
    stop = r.stop;
    await traceOperation({ ...source, traceKeys: true }, 'get', 1, 'user:1', valueHit, async () => undefined);
    expect(r.seen[3]?.context).toMatchObject({ key: 'user:1', hit: false });
    expect(r.seen[3]?.context.tier).toBeUndefined();
    await traceOperation(source, 'getMany', 3, undefined, countHit, async () => [1, undefined, 3]);
    expect(r.seen[7]?.context).toMatchObject({ keyCount: 3, hit: 2, tier: 'l2' });
  });

  it('publishes error then asyncStart/asyncEnd when the operation rejects, and rejects the same error', async () => {
    const r = record();
    stop = r.stop;
    const failure = new Error('down');
    await expect(traceOperation(source, 'set', 1, 'k', undefined, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(r.seen.map((s) => s.event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(r.seen[2]?.context.error).toBe(failure);
  });

  it('has no subscribers once unsubscribed', () => {
    const r = record();
    r.stop();
    expect(operationChannel.hasSubscribers).toBe(false);
  });
});

describe('larder.topology', () => {
  it('publishes through publishTopology only to subscribers', () => {
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    publishTopology({ store: 's', driver: 'memcached', event: 'discovery', version: 1 });
    subscribe('larder.topology', listener);
    const event: TopologyTraceEvent = {
      store: 's',
      driver: 'memcached',
      event: 'node-ejected',
      node: '127.0.0.1:11211',
    };
    publishTopology(event);
    unsubscribe('larder.topology', listener);
    expect(seen).toEqual([event]);
  });
});
