/**
 * The memjs version matrix: the peer range `^1.3.2` allows one published version, 1.3.2, both its
 * lowest and its highest (npm, 2026-11-23), which is the dev dependency. The probe must find every
 * internal the driver uses on it, and a slice of the conformance suite runs on a real server. When
 * memjs publishes a newer 1.x, add it as an alias (`"memjs-highest": "npm:memjs@1.x.y"`) and a file
 * that mocks `memjs` with it and runs the same checks (see ../../redis/test/client-lowest.test.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Cache } from '@larder/core';
import type { MemcachedCluster } from '@larder/dev-services';
import { CAPABILITIES, GROUPS, runConformanceSuite } from '@larder/test-suite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemcachedStore, type MemcachedStore } from '../src';
import { probeMemjs } from '../src/memjs-internals';
import { memcached } from './helpers';

const installed = (createRequire(import.meta.url)('memjs/package.json') as { version: string }).version;
const range = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    peerDependencies: { memjs: string };
  }
).peerDependencies.memjs;
/** The conformance groups run here (no TTL waits); the whole suite runs in conformance.test.ts. */
const SLICE = new Set(['capabilities', 'basic', 'many', 'add', 'counters', 'compareAndSet', 'values']);

describe(`memcached driver on memjs ${installed} (the lowest and highest the peer range allows)`, () => {
  let cluster: MemcachedCluster;
  let store: MemcachedStore;
  beforeAll(async () => {
    cluster = await memcached(1);
    store = await createMemcachedStore({ servers: cluster.servers.split(',') });
  });
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('is the lower bound of the peer range', () => {
    expect(range).toBe('^1.3.2');
    expect(installed).toBe('1.3.2');
  });

  it('the probe finds every memjs internal the driver uses', () => {
    expect(probeMemjs()).toEqual([]);
  });

  runConformanceSuite({
    name: `memcached on memjs ${installed}`,
    createCache: (prefix, overrides) => new Cache({ store, prefix, ...overrides }),
    describe,
    it,
    beforeAll,
    afterAll,
    // memcached README "Counters": its binary protocol cannot report an item's remaining TTL.
    limits: { counterExpiry: 'a negative delta or value is a read-modify-write that gives the counter the call TTL' },
    skip: {
      clear: 'memcached cannot enumerate or delete keys by prefix (capability clear=false)',
      enumerate: 'memcached cannot list keys (capability enumerate=false)',
      ...Object.fromEntries(
        GROUPS.filter((group) => !SLICE.has(group) && !(CAPABILITIES as readonly string[]).includes(group)).map(
          (group) => [group, 'version matrix slice: the whole suite runs in conformance.test.ts'],
        ),
      ),
    },
  });
});
