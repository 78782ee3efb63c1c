import { BackendError } from '@larder/core';
import type { Payload, TtlMs } from '@larder/core/driver';
import type { Cluster, Redis } from 'ioredis';
import { groupBySlot } from './cluster-slots';
import { isCluster } from './ioredis-internals';
import type { RedisClient, ResolvedRedisOptions } from './options';
import { arg, type Value } from './replies';

/** The `durableWrites` option: how many replicas must acknowledge, within how long. */
export type DurableWrites = NonNullable<ResolvedRedisOptions['durableWrites']>;

/** Sets entries that share a node: MSET without a TTL, else SET PX (pipelined when several). */
export async function setEntries(
  c: Redis,
  entries: readonly (readonly [string, Payload])[],
  ttlMs: TtlMs,
): Promise<void> {
  if (ttlMs === undefined) {
    const args: Value[] = [];
    for (const [key, payload] of entries) args.push(key, arg(payload));
    await c.mset(...(args as [string, Value]));
    return;
  }
  if (entries.length === 1) {
    const [key, payload] = entries[0]!;
    await c.set(key, arg(payload), 'PX', ttlMs);
    return;
  }
  const pipeline = c.pipeline();
  for (const [key, payload] of entries) pipeline.set(key, arg(payload), 'PX', ttlMs);
  const results = (await pipeline.exec()) ?? [];
  for (const [error] of results) if (error) throw error;
}

/** `setEntries` of entries on any node: one call per slot in Cluster. */
export async function setEntriesBySlot(
  c: Redis,
  entries: readonly (readonly [string, Payload])[],
  ttlMs: TtlMs,
  cluster: boolean,
): Promise<void> {
  if (!cluster) return setEntries(c, entries, ttlMs);
  const groups = groupBySlot(entries.map(([key]) => key));
  await Promise.all(
    [...groups.values()].map((indexes) =>
      setEntries(
        c,
        indexes.map((i) => entries[i]!),
        ttlMs,
      ),
    ),
  );
}

/** UNLINK (one per slot in Cluster); returns how many existed. */
export async function unlinkKeys(c: Redis, keys: string[], cluster: boolean): Promise<number> {
  if (!cluster) return c.unlink(...keys);
  const groups = groupBySlot(keys);
  const counts = await Promise.all([...groups.values()].map((indexes) => c.unlink(...indexes.map((i) => keys[i]!))));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * WAIT until `durable.replicas` replicas have every write of this connection so far; a
 * `BackendError` (E_NOT_DURABLE) when fewer acknowledge in time (the write is on the primary).
 */
export async function waitForReplicas(
  client: RedisClient,
  cmd: () => Redis,
  durable: DurableWrites,
  key: string,
): Promise<void> {
  let acked: number;
  if (isCluster(client)) {
    // WAIT has no key: pipeline it behind a keyed no-op so it reaches the node owning `key`.
    const results = await (client as Cluster).pipeline().exists(key).wait(durable.replicas, durable.timeoutMs).exec();
    acked = Number(results?.[1]?.[1] ?? 0);
  } else {
    acked = await cmd().wait(durable.replicas, durable.timeoutMs);
  }
  if (acked < durable.replicas) {
    throw new BackendError(
      `redis write of '${key}' reached ${acked} of ${durable.replicas} replicas within ${durable.timeoutMs}ms (it is on the primary)`,
      'redis',
      { code: 'E_NOT_DURABLE' },
    );
  }
}
