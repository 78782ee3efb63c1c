/**
 * One process of `pnpm bench fleet`'s freeze rows (fleet-freeze.ts): `count` L1 instances (a `Cache`
 * each, its own Redis store, tracking) under one prefix at `url`. Sends `'ready'` once every L1
 * serves; answers `{ get }` with the first instance's read and `{ up }` with whether every L1 serves.
 */
import { Cache } from '@larder/core';
import { createRedisStore } from '@larder/redis';

/** A request from fleet-freeze.ts. */
export type FreezeRequest = { get: string } | { up: true };
/** The reply to a request (`value`: a read's JSON, or whether every L1 serves). */
export type FreezeReply = { value: unknown };

const [url, count, prefix] = process.argv.slice(2) as [string, string, string];
const fleet = Array.from(
  { length: Number(count) },
  () =>
    new Cache({
      store: createRedisStore({ url, commandTimeoutMs: 30_000 }),
      timeout: '60s',
      prefix,
      l1: { invalidation: 'tracking' },
    }),
);
const allUp = async () =>
  (await Promise.all(fleet.map((cache) => cache.describeL1()))).every(
    (d) => d?.state === 'up' && d.fleet?.leaseHeld === true,
  );

process.on('message', async (request: FreezeRequest) => {
  const value = 'get' in request ? await (fleet[0] as Cache).get(request.get) : await allUp();
  process.send?.({ value } satisfies FreezeReply);
});
process.on('SIGTERM', async () => {
  await Promise.all(fleet.map((cache) => cache.close().catch(() => undefined)));
  process.exit(0);
});

while (!(await allUp())) await new Promise((resolve) => setTimeout(resolve, 50));
process.send?.('ready');
