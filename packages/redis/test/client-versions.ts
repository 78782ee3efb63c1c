/**
 * The ioredis version matrix: each `client-*.test.ts` file swaps the driver's `ioredis` for one
 * version its peer range allows (`vi.mock`, a dev-dependency alias) and runs this: the version is
 * the range's bound, the probe's verdict on that version, describe()'s note, command timeouts
 * through a blackholed connection, and a slice of the conformance suite on a real server.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Cache, TimeoutError } from '@larder/core';
import { type FaultProxy, type RedisServer, startFaultProxy, startRedis, waitFor } from '@larder/dev-services';
import { CAPABILITIES, GROUPS } from '@larder/test-suite';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index';
import { type IoredisProbe, probeIoredis } from '../src/ioredis-internals';
import { runRedisConformance } from './helpers';

const TIMEOUT_MS = 300;
/** The conformance groups run per version (no TTL waits: a few seconds in all); the rest run in conformance-single.test.ts. */
const SLICE = new Set(['capabilities', 'basic', 'many', 'add', 'counters', 'compareAndSet', 'keys', 'clear', 'values']);

/** One version of the matrix. */
export interface ClientVersion {
  /** Which end of the peer range. */
  bound: 'lowest' | 'highest';
  /** The package the test file mocks `ioredis` with (`ioredis` itself for the dev dependency). */
  packageName: string;
  /** What the probe must find on it. */
  probe: IoredisProbe;
  /** describe()'s `fallbacks` when something is missing. */
  fallbacks: string[];
}

const peerRange = (): string =>
  (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      peerDependencies: { ioredis: string };
    }
  ).peerDependencies.ioredis;

const parts = (version: string) => version.split('.').map(Number) as [number, number, number];

/** Whether `version` is in `range` (`^a.b.c || ^x.y.z`, the only form the peer range uses). */
function inRange(version: string, range: string): boolean {
  const [major, minor, patch] = parts(version);
  return range.split('||').some((part) => {
    const [m, n, p] = parts(part.trim().replace(/^\^/, ''));
    return major === m && (minor > n || (minor === n && patch >= p));
  });
}

/** Runs the matrix for one version (the test file has mocked `ioredis` with it). */
export function clientVersionSuite(version: ClientVersion): void {
  const installed = (createRequire(import.meta.url)(`${version.packageName}/package.json`) as { version: string })
    .version;

  describe(`redis driver on ioredis ${installed} (the ${version.bound} the peer range allows)`, () => {
    let server: RedisServer;
    let proxy: FaultProxy;
    let store: RedisStore;
    /** Through the fault proxy, with a short timeout (only the timeout test uses it). */
    let timed: RedisStore;
    beforeAll(async () => {
      server = await startRedis();
      proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
      store = createRedisStore({ url: server.url });
      timed = createRedisStore({ url: `redis://${proxy.host}:${proxy.port}`, commandTimeoutMs: TIMEOUT_MS });
    });
    afterAll(async () => {
      await Promise.allSettled([store?.close(), timed?.close()]);
      await proxy?.close();
      await server?.stop();
    });

    it('is the bound of the peer range', () => {
      const range = peerRange();
      expect(inRange(installed, range)).toBe(true);
      if (version.bound === 'lowest') expect(installed).toBe(/\d+\.\d+\.\d+/.exec(range)?.[0]);
    });

    it('the probe finds every private part the driver uses, but those this version lacks', () => {
      expect(probeIoredis()).toEqual(version.probe);
    });

    it('describe() names what is missing and what the store does instead', async () => {
      const description = await store.describe();
      if (version.probe.missing.length === 0) expect(description.client).toBeUndefined();
      else
        expect(description.client).toEqual({
          library: 'ioredis',
          missing: version.probe.missing,
          fallbacks: version.fallbacks,
        });
    });

    it('writes nothing on the console while it works (ioredis 5.4.0 logged every socket read)', async () => {
      const log = vi.spyOn(console, 'log');
      try {
        await store.set('cv:log', 'x', undefined);
        await Promise.all([store.get('cv:log'), store.getMany(['cv:log', 'cv:none']), store.delete('cv:log')]);
        expect(log).not.toHaveBeenCalled();
      } finally {
        log.mockRestore();
      }
    });

    it('tagged writes of one tick (one script call of hundreds of arguments) land whole and read back', async () => {
      const cache = new Cache({ store: createRedisStore({ url: server.url }), prefix: 'cv:tags:' });
      try {
        const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
        await Promise.all(
          keys.map((key, i) => cache.tags(['all', `group:${i % 5}`, `own:${i}`]).set(key, { i }, '1m')),
        );
        expect(await cache.getMany(keys)).toEqual(keys.map((_, i) => ({ i })));
        await cache.invalidateTags(['group:3']);
        const after = await cache.getMany(keys);
        expect(after).toEqual(keys.map((_, i) => (i % 5 === 3 ? undefined : { i })));
      } finally {
        await cache.close();
      }
    });

    it('times out a command on a silent connection, then works again', async () => {
      // (Connected first: on a loaded machine the handshake alone can take longer than the timeout.)
      await waitFor(
        () =>
          timed.set('cv:warm', 'x', undefined).then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 5000,
          description: 'the first write',
        },
      );
      // The store's own deadlines, or (without what they read) ioredis' per-command timeouts.
      const options = (timed.client as Redis).options;
      expect(options.commandTimeout).toBe(version.probe.deadlines ? undefined : TIMEOUT_MS);
      proxy.setFault({ kind: 'blackhole' });
      const started = performance.now();
      const error = await timed.get('cv:warm').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 400);
      proxy.clear();
      await waitFor(
        () =>
          timed.get('cv:warm').then(
            (value) => value === 'x',
            () => false,
          ),
        { timeoutMs: 5000, description: 'reads to work again' },
      );
    });

    const skip = Object.fromEntries(
      // A group named after a capability (`locks`) cannot be skipped while the store has it: it runs too.
      GROUPS.filter((group) => !SLICE.has(group) && !(CAPABILITIES as readonly string[]).includes(group)).map(
        (group) => [
          group,
          'version matrix slice: the whole suite runs on the default ioredis (conformance-single.test.ts)',
        ],
      ),
    );
    runRedisConformance(`redis on ioredis ${installed}`, () => store, skip);
  });
}
