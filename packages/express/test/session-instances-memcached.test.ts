import { type MemcachedCluster, memcachedAsciiStats, startMemcached } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkInstances, type Instances, instanceScenarios } from './session-instances';

const COUNTED = ['cmd_get', 'cmd_set', 'cas_hits', 'cas_misses', 'cas_badval', 'cmd_touch'] as const;

/** Command counters summed over the cluster's nodes (a `stats` request counts in none of them). */
async function counts(cluster: MemcachedCluster): Promise<Record<string, number>> {
  const sums: Record<string, number> = Object.fromEntries(COUNTED.map((name) => [name, 0]));
  for (const node of cluster.nodes) {
    const { stats } = await memcachedAsciiStats(node);
    for (const name of COUNTED) sums[name]! += Number(stats[name]);
  }
  return sums;
}

describe('sessions across two app processes on memcached (2 nodes)', () => {
  let cluster: MemcachedCluster;
  let instances: Instances;
  beforeAll(async () => {
    cluster = await startMemcached({ count: 2 });
    instances = await forkInstances({
      driver: 'memcached',
      prefix: `inst-${process.pid}:`,
      memcachedServers: cluster.nodes.map((node) => node.address),
    });
  }, 30_000);
  afterAll(async () => {
    await instances?.stop();
    await cluster?.stop();
  });
  instanceScenarios(() => instances);

  it('a modifying request costs 2 round trips at the server: the session GET and one SET with its CAS', async () => {
    const [a, b] = instances.urls;
    const login = await fetch(`${a}/login?user=rt-user`, { method: 'POST' });
    expect(login.status).toBe(200);
    await login.json();
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    // The first request of a user on an instance also reads the user index (userKey); warm b's.
    expect(await (await fetch(`${b}/set/warm`, { method: 'POST', headers: { cookie } })).json()).toEqual({ ok: true });
    for (const [i, url] of [a, b, a, b].entries()) {
      const before = await counts(cluster);
      const res = await fetch(`${url}/set/rt${i}`, { method: 'POST', headers: { cookie } });
      expect(res.status).toBe(200);
      // express-session holds back the body's end until the save is done: read all of it.
      expect(await res.json()).toEqual({ ok: true });
      const expected = { ...before, cmd_get: before.cmd_get! + 1, cmd_set: before.cmd_set! + 1 };
      expect(await counts(cluster)).toEqual({ ...expected, cas_hits: before.cas_hits! + 1 });
    }
    const me = (await (await fetch(`${b}/me`, { headers: { cookie } })).json()) as { data: object };
    expect(me.data).toMatchObject({ userId: 'rt-user', warm: true, rt0: true, rt1: true, rt2: true, rt3: true });
  });
});
