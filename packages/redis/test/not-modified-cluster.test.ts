import { Cache, type LoaderContext } from '@larder/core';
import { type RedisCluster, startRedisCluster, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot } from '../src/cluster-slots';
import { createRedisStore, type RedisStore } from '../src/index';
import { commandStats, hostPorts } from './helpers';

// issue #39 "Done means" 5 on a Redis Cluster: `notModified()` with L1s tracked on every node (3
// masters, a replica each). The writer announces the extension with a hint key before rewriting
// the entry; an L1 that hears the hint checks the key's header on the key's next invalidation
// instead of reading its value. Each node reports to an L1 on its own connection, so the hint must
// come from the key's own node to be heard first: it carries the key's hash tag (same slot), and
// the writer awaits it before the rewrite. (On another master its report could trail the key's:
// a master writes the writer's reply before its reports, and the rewrite leaves on that reply.)

const L1S = 20;
const PREFIX = 'nmc:';
const GRACE = { grace: '1h' } as const;
/** Keys on every master (slots 8898, 4769, 640, 12903, 8774, 4645: a 3-master Cluster splits at 5461 and 10923). */
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
const keepStale = (context: LoaderContext) => {
  context.notModified();
  return undefined as unknown as string;
};

describe('notModified() across L1s on a Redis Cluster (tracking on every node)', () => {
  let cluster: RedisCluster;
  let writer: Cache;
  let l1s: Cache[];
  /** Every node's command counts, summed. */
  const stats = async () => {
    const all = await Promise.all(cluster.nodes.map((node) => commandStats(node)));
    const sum = (name: string) => all.reduce((total, one) => total + (one[name] ?? 0), 0);
    return { valueReads: sum('get') + sum('mget'), headerChecks: sum('getrange') };
  };
  const resetStats = () => Promise.all(cluster.nodes.map((node) => node.command('CONFIG', 'RESETSTAT')));
  /** The key's PTTL, asked of each master (the others answer MOVED). */
  const pttl = async (full: string) => {
    for (const node of await cluster.masters()) {
      const answer = await node.command('PTTL', full).catch(() => undefined);
      if (answer !== undefined) return Number(answer);
    }
    throw new Error(`no master serves ${full}`);
  };
  /** The hint keys the refresher wrote (its store's `set`, watched). */
  const hints: string[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    const store = () => createRedisStore({ clusterNodes: hostPorts(cluster.startupNodes) });
    writer = new Cache({ store: store(), prefix: PREFIX });
    const stores = Array.from({ length: L1S }, store);
    // The refresher's (the first L1's) writes of hint keys are recorded.
    const refresher = stores[0] as RedisStore;
    const set = refresher.set.bind(refresher);
    refresher.set = (key, ...rest) => {
      if (key.includes('__larder:l1:life:')) hints.push(key);
      return set(key, ...rest);
    };
    // A long lease: each renewal is a compare-and-set script whose GET Redis counts as a `get`, and
    // 20 L1s renew 30 times a second by default. On a loaded machine the measure's window grew long
    // enough to count 19 of them as value reads (CI, Node 24), while every call was an L1 hit.
    l1s = stores.map((one) => new Cache({ store: one, prefix: PREFIX, l1: { lease: '1h' } }));
    await waitFor(
      async () => (await Promise.all(l1s.map((cache) => cache.describeL1()))).every((d) => d?.state === 'up'),
      { timeoutMs: 15_000, description: 'the L1s up' },
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all((l1s ?? []).map((cache) => cache.close()));
    await writer?.close();
    await cluster?.stop();
  });

  it('zero value reads after the extension of keys on every master, the TTL extended in the store and in every L1', async () => {
    expect(new Set(KEYS.map((key) => Math.floor(keySlot(`${PREFIX}${key}`) / 5462))).size).toBe(3);
    // Every key written with a 1 s TTL and an hour of grace, held by every L1, then stale.
    for (const key of KEYS) await writer.remember(key, 1000, () => `first ${key}`, GRACE);
    const holds = async (cache: Cache, key: string) =>
      (await cache.rememberWithStatus(key, 1000, () => 'loaded', GRACE)).tier === 'l1';
    await Promise.all(
      l1s.flatMap((cache) =>
        KEYS.map((key) => waitFor(() => holds(cache, key), { timeoutMs: 5000, description: 'held' })),
      ),
    );
    await waitFor(async () => (await writer.get(KEYS.at(-1) as string)) === undefined, { description: 'stale' });
    // An L1 that flushes (its lease lapsed or a link dropped: a loaded machine can stall renewals)
    // drops every copy by design and reads them again: counted apart, never as the extension's.
    const flushes = async () => Promise.all(l1s.map(async (cache) => (await cache.describeL1())?.flushes ?? 0));
    const flushesBefore = await flushes();
    let runs = 0;
    const notModified = (context: LoaderContext) => {
      runs++;
      return keepStale(context);
    };
    // One instance refreshes each key: "not modified" (the soft timeout makes its caller wait for the run).
    const first = l1s[0] as Cache;
    await resetStats();
    for (const key of KEYS) {
      expect(await first.remember(key, '1m', notModified, { ...GRACE, timeout: { soft: 10_000 } })).toBe(
        `first ${key}`,
      );
    }
    // Every hint on its key's slot (so on its key's master and replica).
    const apart = hints.filter(
      (hint) => keySlot(hint) !== keySlot(`${PREFIX}${hint.slice(hint.lastIndexOf(':') + 1)}`),
    );
    // Every L1 checks each rewritten key's header, then holds its copy again. Every L1 holds as many
    // entries before the rewrites' reports reach it (its old copies) as after its checks, so the
    // wait is for both: every check asked of the server (a copy is out while its check runs), then
    // every copy held.
    const expectedChecks = L1S * KEYS.length;
    const settled = await waitFor(
      async () =>
        (await stats()).headerChecks >= expectedChecks &&
        (await Promise.all(l1s.map((cache) => cache.describeL1()))).every((d) => d?.entries === KEYS.length),
      { timeoutMs: 10_000, description: 'each L1 checked and holds every copy again' },
    ).then(
      () => true,
      () => false,
    );
    const checks = (await stats()).headerChecks;
    // From here on only the L1s' calls read, one L1 at a time: any value read is a copy it did not keep.
    const statuses: Awaited<ReturnType<Cache['rememberWithStatus']>>[] = [];
    const readsByL1: number[] = [];
    for (const cache of l1s) {
      await resetStats();
      for (const key of KEYS) statuses.push(await cache.rememberWithStatus(key, '1m', notModified, GRACE));
      readsByL1.push((await stats()).valueReads);
    }
    const flushesAfter = await flushes();
    const flushed = l1s.map((_, i) => (flushesAfter[i] as number) > (flushesBefore[i] as number));
    const reads = readsByL1.reduce((sum, n, i) => sum + (flushed[i] ? 0 : n), 0);
    const pttls = await Promise.all(KEYS.map((key) => pttl(`${PREFIX}${key}`)));
    console.log(
      `scenario 5 on a Cluster (3 masters + 3 replicas): ${L1S} L1s × ${KEYS.length} keys after notModified (${hints.length - apart.length} of ${hints.length} hints on their key's slot): value reads ${reads} (${readsByL1.reduce((a, b) => a + b, 0)} with the ${flushed.filter(Boolean).length} L1s that flushed), header checks ${checks}, loader runs ${runs}, every L1 checked and held its copies again: ${settled}, PTTL ≥ ${Math.min(...pttls)} ms`,
    );
    // Where reads happened: each such L1's calls (status, tier), for whoever meets a failure here.
    const readers = readsByL1.flatMap((n, i) =>
      n === 0 ? [] : [{ l1: i, reads: n, calls: statuses.slice(i * KEYS.length, (i + 1) * KEYS.length) }],
    );
    if (readers.length > 0)
      console.log(
        'L1s that read:',
        JSON.stringify(readers.map((r) => ({ ...r, calls: r.calls.map((c) => `${c.status}/${c.tier}`) }))),
      );
    expect(apart).toEqual([]);
    expect(reads).toBe(0);
    expect(hints).toHaveLength(KEYS.length);
    expect(runs).toBe(KEYS.length);
    // Each L1's view: a fresh hit of its own copy (the new life: it was stale before the extension).
    statuses.forEach((status, i) => {
      if (!flushed[Math.floor(i / KEYS.length)]) expect(status).toMatchObject({ status: 'hit', tier: 'l1' });
    });
    // Most L1s kept every copy: a flush is a rare stall, not how the extension behaves.
    expect(flushed.filter(Boolean).length).toBeLessThanOrEqual(L1S / 4);
    // The store's TTL: a minute plus the hour of grace, where less than an hour was left before.
    for (const left of pttls) expect(left).toBeGreaterThan(3_600_000 + 55_000);
  }, 60_000);
});
