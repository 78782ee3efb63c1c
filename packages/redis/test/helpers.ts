/** Test helpers: the shared conformance run, fault proxies per node, address lists, per-command call counts from `INFO commandstats`. */
import { BackendError, Cache } from '@larder/core';
import { type FaultProxy, redisCommandStats, startFaultProxy } from '@larder/dev-services';
import { runConformanceSuite } from '@larder/test-suite';
import type { NatMap, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisStore } from '../src/index';

/** Runs the shared conformance suite on the store that the enclosing describe opens in its beforeAll (`skip`: groups left out, with why). */
export function runRedisConformance(
  name: string,
  store: () => RedisStore,
  skip?: Parameters<typeof runConformanceSuite>[0]['skip'],
): void {
  runConformanceSuite({
    name,
    // The chunked group (the only one with a maxValueBytes override) moves tens of MB at once: the
    // facade allows 20 s, as the stores allow 10 s per command (the 5 s default timed out on CI).
    createCache: (prefix, overrides) =>
      new Cache({ store: store(), prefix, ...overrides, ...(overrides?.maxValueBytes ? { timeout: '20s' } : {}) }),
    describe,
    it,
    beforeAll,
    afterAll,
    // Expiry tests at 500 ms TTLs: on a loaded 2-core CI box a few round trips can take longer than 200 ms.
    timing: { ttlPrecisionMs: 250 },
    ...(skip === undefined ? {} : { skip }),
  });
}

/** `host:port,host:port` (dev-services address lists) -> [{ host, port }]. */
export const hostPorts = (list: string) =>
  list.split(',').map((entry) => {
    const [host, port] = entry.split(':');
    return { host: host!, port: Number(port) };
  });

interface Node {
  command(...args: (string | number)[]): Promise<unknown>;
}

/** Calls of each command on a server, from INFO commandstats (dev-services' `redisCommandStats`, by the name these tests use). */
export const commandStats = redisCommandStats;

/** Calls of `command` a server has executed (INFO commandstats; a script's own commands count too). */
export async function commandCalls(node: Node, command: string): Promise<number> {
  return (await commandStats(node))[command] ?? 0;
}

/** Reads (GET + MGET) a server has executed. */
export async function readCalls(node: Node): Promise<number> {
  const stats = await commandStats(node);
  return (stats.get ?? 0) + (stats.mget ?? 0);
}

/** Decodes a payload to text. */
export function text(payload: unknown): string | undefined {
  if (payload === undefined) return undefined;
  return typeof payload === 'string' ? payload : Buffer.from(payload as Uint8Array).toString();
}

/**
 * One fault proxy in front of each node, and the ioredis `natMap` that turns each node's address
 * (as CLUSTER SLOTS or a Sentinel announces it) into its proxy's.
 */
export async function proxyEachNode(
  nodes: readonly { host: string; port: number }[],
): Promise<{ proxies: FaultProxy[]; natMap: NatMap }> {
  const proxies = await Promise.all(
    nodes.map((node) => startFaultProxy({ target: { host: node.host, port: node.port } })),
  );
  const natMap: NatMap = Object.fromEntries(
    nodes.map((node, i) => [`${node.host}:${node.port}`, { host: proxies[i]!.host, port: proxies[i]!.port }]),
  );
  return { proxies, natMap };
}

/** Runs `call`, expecting a `BackendError` within `settleMs` (a fault must never hang a call). */
export async function settlesWithError(call: () => Promise<unknown>, settleMs: number): Promise<void> {
  const started = Date.now();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendError);
  expect(Date.now() - started).toBeLessThan(settleMs);
}

/** A chunk of a socket write. */
export type Chunk = Buffer | string;

/**
 * Runs `run` with every socket write of `store`'s primary reported to `seen` (its chunks;
 * `vectored`: one `writev` of several), then puts the socket's own write methods back.
 */
export async function watchSocketWrites<T>(
  store: RedisStore,
  seen: (chunks: Chunk[], vectored: boolean) => void,
  run: () => Promise<T>,
): Promise<T> {
  const socket = (store.client as Redis).stream as unknown as {
    _write: (chunk: Chunk, ...rest: unknown[]) => unknown;
    _writev: (chunks: { chunk: Chunk }[], ...rest: unknown[]) => unknown;
  };
  const { _write: write, _writev: writev } = socket;
  socket._write = function (this: unknown, chunk, ...rest) {
    seen([chunk], false);
    return write.call(this, chunk, ...rest);
  };
  socket._writev = function (this: unknown, chunks, ...rest) {
    seen(
      chunks.map((c) => c.chunk),
      true,
    );
    return writev.call(this, chunks, ...rest);
  };
  try {
    return await run();
  } finally {
    socket._write = write;
    socket._writev = writev;
  }
}
