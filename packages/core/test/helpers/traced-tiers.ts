import { operationChannel } from '../../src/util/tracing';

/** Collects the `tier` of traced operations named `operation` while `run` runs. */
export async function tracedTiers(operation: string, run: () => Promise<unknown>): Promise<unknown[]> {
  const tiers: unknown[] = [];
  const handlers = {
    start() {},
    end() {},
    asyncStart() {},
    asyncEnd(context: { operation: string; tier?: string }) {
      if (context.operation === operation) tiers.push(context.tier);
    },
    error() {},
  };
  operationChannel.subscribe(handlers as never);
  try {
    await run();
  } finally {
    operationChannel.unsubscribe(handlers as never);
  }
  return tiers;
}
