// The scenarios every backend of the L1 barrier tests runs (l1-barrier.test.ts).
import { freezeProcess, waitFor } from '@larder/dev-services';
import { expect } from 'vitest';
import { now } from '../coherence/clock';
import { checkHistory, type Instance, report } from './harness';
import type { Op } from './protocol';

/**
 * Three instances (the third with its `Date.now` 5 s ahead) run a randomized history of sets, gets
 * and hard invalidations (delete + barrier) on a few keys at once: zero stale reads, no error.
 */
export async function randomizedHistory(
  label: string,
  instances: readonly Instance[],
  options: { durationMs: number; invalidations: number },
): Promise<string> {
  const keys = ['h0', 'h1', 'h2', 'h3', 'h4'];
  const startAt = now() + 200;
  const replies = await Promise.all(
    instances.map((instance) => instance.call({ op: 'history', keys, startAt, ...options })),
  );
  const ops: Op[] = replies.flatMap((reply) => reply.ops ?? []);
  const check = checkHistory(ops);
  const line = report(label, check);
  expect(check.errors).toEqual([]);
  expect(check.stale).toEqual([]);
  expect(check.invalidations).toBeGreaterThanOrEqual(instances.length);
  // The L1s answered (reads their cache reported as L1 hits), so the zero above means something.
  // On a slow store (DynamoDB Local on a loaded CI runner: 11 and 51 reads in 3 s seen, every key
  // invalidated between them) a short history may have no L1 hit to show; stoppedInstance waits
  // for L1 hits on every backend.
  if (check.reads >= 100) expect(check.l1Reads).toBeGreaterThan(0);
  return line;
}

/**
 * `stopped` holds a value in its L1 and reads it every millisecond; it is stopped (SIGSTOP), the
 * writer invalidates: the barrier resolves within the lease (plus margin), and once `stopped`
 * resumes (SIGCONT) none of its reads that began after the barrier returns the old value.
 */
export async function stoppedInstance(
  writer: Instance,
  stopped: Instance,
  leaseMs: number,
  op: 'invalidate' | 'invalidateTags' = 'invalidateTags',
): Promise<{ waitedMs: number }> {
  const key = `paused-${op}`;
  await writer.call({ op: 'set', key, value: 'old' });
  await waitFor(async () => (await stopped.call({ op: 'get', key })).value === 'old');
  await stopped.call({ op: 'loop', key });
  // Its L1 answers the loop before it is stopped.
  await waitFor(async () => {
    const state = (await stopped.call({ op: 'state' })).value as { hits: number };
    return state.hits > 2;
  });
  await freezeProcess(stopped.pid);
  let resumed = false;
  try {
    const { start, end } = await writer.call({ op, keys: [key] });
    const waitedMs = (end as number) - (start as number);
    // Without an acknowledgement the writer waits for the lease, not more.
    expect(waitedMs).toBeLessThan(leaseMs + 1500);
    process.kill(stopped.pid, 'SIGCONT');
    resumed = true;
    // Reads after the resume: wait until some began after the barrier resolved and answered.
    let after: Op[] = [];
    await waitFor(async () => {
      const reads = (await stopped.call({ op: 'reads' })).ops ?? [];
      after = [...after, ...reads.filter((read) => read.start > (end as number))];
      if (after.length < 5) await stopped.call({ op: 'loop', key });
      return after.length >= 5;
    });
    expect(after.filter((read) => read.value === 'old')).toEqual([]);
    return { waitedMs };
  } finally {
    if (!resumed) process.kill(stopped.pid, 'SIGCONT');
  }
}

/** After the stop, the stopped instance serves its L1 again (a new lease) and acknowledges fences: a barrier is fast again. */
export async function recovers(writer: Instance, other: Instance, leaseMs: number): Promise<void> {
  await waitFor(async () => ((await other.call({ op: 'state' })).value as { state: string }).state === 'up', {
    timeoutMs: 10_000,
  });
  const { start, end } = await writer.call({ op: 'invalidateTags', keys: ['paused'] });
  expect((end as number) - (start as number)).toBeLessThan(leaseMs);
}

/** Soft invalidation across processes: the other instance's reads miss, and `remember` with grace serves the old value only as `graced`. */
export async function softInvalidation(writer: Instance, reader: Instance): Promise<void> {
  const key = 'soft';
  await writer.call({ op: 'remember', key, value: 'old', grace: 60_000 });
  expect((await reader.call({ op: 'remember', key, value: 'unused', grace: 60_000 })).status).toBe('hit');
  expect((await reader.call({ op: 'get', key })).value).toBe('old');
  await writer.call({ op: 'softInvalidate', keys: [key] });
  expect((await reader.call({ op: 'get', key })).value).toBe(null);
  const graced = await reader.call({ op: 'remember', key, value: 'new', grace: 60_000 });
  expect(graced).toMatchObject({ value: 'old', status: 'graced' });
  // Its background refresh stores the new value; then everyone reads it.
  await waitFor(async () => (await writer.call({ op: 'get', key })).value === 'new');
}

/**
 * A loader overlapping a hard invalidation from another process is never kept: `loading` starts a
 * `remember` whose loader waits, `invalidator` invalidates the key's tag (resolved: the barrier),
 * then the loader returns: its caller gets the value, but no instance reads it afterwards.
 */
export async function overlappingLoader(loading: Instance, invalidator: Instance, others: Instance[]): Promise<void> {
  const key = 'overlap';
  const remembered = loading.call({ op: 'remember', key, value: 'loaded-before', gated: true });
  // The loader runs (its tag versions were read before it started).
  await waitFor(async () => (await loading.call({ op: 'waiting' })).value === 1);
  await invalidator.call({ op: 'invalidateTags', keys: [key] });
  await loading.call({ op: 'release' });
  expect((await remembered).value).toBe('loaded-before');
  for (const instance of [loading, invalidator, ...others]) {
    expect((await instance.call({ op: 'get', key })).value).toBe(null);
  }
}

/** The tag state deleted in the backend (`delete`): every instance reads the tagged entry as a miss, never its old value. */
export async function tagStateDeleted(
  writer: Instance,
  readers: Instance[],
  deleteTagState: (tagKey: string) => Promise<void>,
  prefix: string,
): Promise<void> {
  const key = 'state-gone';
  await writer.call({ op: 'set', key, value: 'tagged' });
  for (const reader of readers) await waitFor(async () => (await reader.call({ op: 'get', key })).value === 'tagged');
  await deleteTagState(`${prefix}__larder:tag:t:${key}`);
  for (const instance of [writer, ...readers]) {
    await waitFor(async () => (await instance.call({ op: 'get', key })).value === null);
  }
}

/**
 * The tag state deleted behind larder's back where no channel announces it (the bus carries only
 * larder's own invalidations, memcached and DynamoDB have no tracking). No write happened, so an
 * L1 copy is not stale; what must hold is that every read that reaches the store misses: the
 * readers here never held the entry. A new tagged write makes the counter again and is read back.
 */
export async function tagStateDeletedUnannounced(
  writer: Instance,
  readers: Instance[],
  deleteTagState: (tagKey: string) => Promise<void>,
  prefix: string,
): Promise<void> {
  const key = 'state-gone-quietly';
  await writer.call({ op: 'set', key, value: 'tagged' });
  await deleteTagState(`${prefix}__larder:tag:t:${key}`);
  for (const reader of readers) expect((await reader.call({ op: 'get', key })).value).toBe(null);
  await writer.call({ op: 'set', key, value: 'again' });
  for (const reader of readers) expect((await reader.call({ op: 'get', key })).value).toBe('again');
}
