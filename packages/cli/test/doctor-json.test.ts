import {
  type ElastiCacheEmulator,
  type MemcachedCluster,
  type RedisReplicaSet,
  startElastiCacheEmulator,
  startMemcached,
  startRedisReplicaSet,
} from '@larder/dev-services';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import schema from '../doctor-report.schema.json' with { type: 'json' };
import type { DoctorReport } from '../src/commands/doctor';
import { topologyFindings } from '../src/health/topology-findings';
import { larder } from './helpers';

const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

/** Parses doctor's JSON and checks it against the documented schema. */
function report(stdout: string): DoctorReport {
  const parsed = JSON.parse(stdout) as DoctorReport;
  expect(validate(parsed), JSON.stringify(validate.errors, null, 2)).toBe(true);
  return parsed;
}

const PASSWORD = 'doctor-json-pw';

describe('larder doctor --json', () => {
  let redis: RedisReplicaSet;
  let memcached: MemcachedCluster;
  let emulator: ElastiCacheEmulator;

  beforeAll(async () => {
    [redis, memcached] = await Promise.all([
      startRedisReplicaSet({ replicas: 1, sentinels: 0, password: PASSWORD }),
      startMemcached({ count: 2 }),
    ]);
    emulator = await startElastiCacheEmulator({
      nodes: memcached.nodes.map((n, i) => ({ host: `node${i}.cache.local`, ip: n.host, port: n.port })),
      version: 3,
    });
    await redis.waitForSync();
  });
  afterAll(async () => {
    await Promise.allSettled([redis?.stop(), memcached?.stop(), emulator?.stop()]);
  });

  it('prints one JSON report with each store describe() data, secrets redacted', async () => {
    const { code, stdout, stderr } = await larder(['doctor', '--json'], {
      CACHE_DRIVER: 'elasticache',
      SESSION_DRIVER: 'redis',
      REDIS_URL: redis.primary.url,
      MEMCACHED_CONFIG_ENDPOINT: emulator.endpoint,
      CACHE_BREAKER: 'on',
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toContain(PASSWORD);
    const parsed = report(stdout);
    expect(parsed).toMatchObject({ default: 'memcached', ok: true, failed: 0 });
    expect(parsed.environment.REDIS_URL).toContain('***');
    const cache = parsed.stores.find((s) => s.name === 'memcached');
    expect(cache?.description?.discovery).toMatchObject({ endpoint: emulator.endpoint, version: 3, ok: true });
    expect(cache?.description?.topology.nodes.filter((n) => n.role === 'node')).toHaveLength(2);
    const sessions = parsed.stores.find((s) => s.name === 'redis');
    expect(sessions?.description?.topology.nodes[0]).toMatchObject({ role: 'primary', status: 'up' });
    expect(sessions?.description?.topology.nodes[1]).toMatchObject({ role: 'replica', state: 'online' });
    expect(Object.values(sessions?.steps ?? {}).every((s) => s.ok)).toBe(true);
    // CACHE_BREAKER=on: each store's breaker, up (the schema check above covers its shape).
    for (const store of [cache, sessions]) {
      expect(store?.description?.breaker).toMatchObject({ state: 'up', consecutiveFailures: 0, probeIntervalMs: 100 });
    }
  });

  it('memory, as JSON: in-process, every step ok', async () => {
    const parsed = report((await larder(['doctor', '--json'])).stdout);
    expect(parsed.ok).toBe(true);
    expect(parsed.stores).toHaveLength(1);
    expect(parsed.stores[0]).toMatchObject({
      name: 'memory',
      ok: true,
      description: { topology: { mode: 'in-process' } },
    });
  });
});

describe('topologyLine', () => {
  it('lists ring shares and ejected nodes of a node list', () => {
    const { line, warnings } = topologyFindings({
      driver: 'memcached',
      topology: {
        mode: 'static',
        nodes: [
          { address: 'a:11211', role: 'node', status: 'up', share: 1 },
          { address: 'b:11211', role: 'node', status: 'ejected', share: 0 },
        ],
      },
    });
    expect(line).toBe('static node list; 2 node(s): a:11211 (100%), b:11211 (0%); ejected: b:11211');
    expect(warnings).toEqual(['node(s) not serving: b:11211 (ejected)']);
  });

  it('says when discovery failed and when Cluster nodes are down', () => {
    expect(
      topologyFindings({
        driver: 'x',
        topology: { mode: 'discovery', nodes: [] },
        discovery: { endpoint: 'cfg:11211', version: 2, ok: false },
      }).line,
    ).toContain('config version 2 (last poll FAILED');
    expect(
      topologyFindings({
        driver: 'x',
        topology: {
          mode: 'cluster',
          nodes: [
            { address: 'a:1', role: 'primary', status: 'up', slots: 8192 },
            { address: 'b:1', role: 'primary', status: 'down', slots: 8192 },
          ],
          slots: { covered: 16384, ranges: 2 },
        },
      }).line,
    ).toBe('mode cluster, 2 primaries, 0 replicas, 16384/16384 slots covered in 2 ranges; down: b:1');
  });
});
