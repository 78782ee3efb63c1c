import { setTimeout as sleep } from 'node:timers/promises';
import type { Cache } from '@larder/core';
import type { L1Description } from '@larder/core/driver';

const POLL_MS = 50;

/**
 * Waits up to `ms` for the cache's L1 to be up (its invalidation channel armed: Redis tracking
 * starts after the connection is ready), or for `refused()` to name why the server refused it.
 * Returns the last L1 state seen.
 */
export async function waitForL1(
  cache: Cache,
  ms: number,
  refused: () => string | undefined,
): Promise<L1Description | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const l1 = (await cache.describe()).l1;
    if (!l1 || l1.state === 'up' || refused() !== undefined || Date.now() >= deadline) return l1;
    await sleep(POLL_MS);
  }
}
