import { performance } from 'node:perf_hooks';
import { BackendError } from '../contract/errors';
import type { L1BarrierDescription } from '../contract/store-description';
import { type FleetStore, randomId } from './fleet-store';
import { ackTtlMs, type L1Lease } from './lease';

const ABSENT = '';
// Monotonic clocks of two processes tick at the same rate within parts per million; this covers it and timer lateness.
const marginMs = (leaseMs: number) => 5 + leaseMs / 100;
const epochOf = (value: string) => value.slice(0, value.indexOf('.'));

/** What the writer knows of one other instance while it waits. */
interface Watched {
  /** Its lease value when last read (`ABSENT`: no lease key). */
  value: string;
  /** When that read answered (this process's monotonic clock). */
  at: number;
}

/**
 * Fences (docs/architecture.md "The barrier"): `barrier()` resolves once every other instance of
 * the fleet has processed the invalidations this process sent before the call, or has stopped
 * serving its L1. It announces a fence key after them on the same channel (tracking: a store
 * write on the same connection; the bus: a publish after theirs); an instance that hears it
 * acknowledges. For an instance that does not, the writer reads its lease: a new epoch means its
 * L1 was emptied after the fence; the same value for `leaseMs` on the writer's monotonic clock
 * means it renewed nothing meanwhile, so its own clock has lapsed it. Only durations on
 * monotonic clocks are compared, never timestamps of two machines.
 */
export class Fences {
  readonly #waiting = new Map<string, (id: string) => void>();
  /** Instances found gone, with the lease value they left (unchanged since: still gone). */
  readonly #gone = new Map<string, string>();
  /** How the last barrier went (`describe()`), once one ran. */
  last: L1BarrierDescription | undefined;

  constructor(
    readonly fleet: FleetStore,
    readonly lease: L1Lease,
    readonly leaseMs: number,
    /** Why a barrier cannot hold right now (the bus is down: earlier publishes were dropped), else `undefined`. */
    readonly blocked: () => string | undefined,
  ) {}

  /** A fleet key heard on the channel: a fence of another instance is acknowledged, an acknowledgement published on the bus wakes its barrier. */
  heard(key: string): void {
    if (!key.startsWith('fence:', this.fleet.root.length)) return;
    const body = key.slice(this.fleet.root.length + 6);
    const colon = body.indexOf(':');
    if (colon >= 0) this.#waiting.get(body.slice(0, colon))?.(body.slice(colon + 1));
    else {
      // Its own fence: with tracking, every node this process reads from applied what came before it.
      const own = this.#waiting.get(body);
      if (own === undefined) this.lease.ack(body);
      else own(this.lease.id);
    }
  }

  /** Resolves when every live instance has processed this process's earlier invalidations or stopped serving; `BackendError` when that cannot be known. */
  async barrier(): Promise<void> {
    const blocked = this.blocked();
    if (blocked !== undefined) throw this.#error(`cannot fence: ${blocked}`);
    const fid = randomId();
    const acked = new Set<string>();
    const tally = { began: performance.now(), instances: 0, acknowledged: acked, lapsed: 0, polls: 0 };
    let outcome: L1BarrierDescription['outcome'] = 'failed';
    let wake: (() => void) | undefined;
    let ownHeard = false;
    this.#waiting.set(fid, (id) => {
      if (id === this.lease.id) ownHeard = true;
      else acked.add(id);
      wake?.();
    });
    try {
      const fence = this.fleet.fenceKey(fid);
      await this.fleet.announce(fence, ackTtlMs(this.leaseMs));
      // Stored (tracking): later reads must see the store as of after the fence (replica reads lag).
      const marker = this.fleet.publish === undefined ? fence : undefined;
      const cap = performance.now() + 3 * this.leaseMs;
      const self = this.lease.id;
      // With tracking, this process also waits to hear its own fence from every node it reads from:
      // until then a lagging read replica may answer (and this L1 keep) what the fence's
      // invalidations replaced. While its lease does not hold, its L1 is bypassed and nothing comes.
      const heardSelf = () => marker === undefined || ownHeard || !this.lease.held;
      const ids = (await this.fleet.members(marker, cap)).filter((id) => id !== self);
      tally.instances = ids.length;
      // Forget instances that left the registry (pruned): the memo stays as small as the fleet.
      for (const id of this.#gone.keys()) if (!ids.includes(id)) this.#gone.delete(id);
      const watched = ids.length === 0 ? new Map<string, Watched>() : await this.#read(ids, marker, cap);
      for (const [id, seen] of watched) {
        if (this.#gone.get(id) !== seen.value) continue;
        watched.delete(id);
        tally.lapsed++;
      }
      const started = performance.now();
      const pollMs = Math.max(10, this.leaseMs / 4);
      // The bus wakes this loop when an acknowledgement is published; with tracking nobody is told
      // of one (it is a quiet key): poll soon, then less often.
      let delayMs = this.fleet.publish === undefined ? 1 : pollMs;
      for (;;) {
        for (const id of acked) watched.delete(id);
        if (watched.size === 0 && heardSelf()) {
          outcome = 'ok';
          return;
        }
        if (performance.now() - started > 3 * this.leaseMs) {
          if (watched.size === 0) throw this.#error('this instance did not hear its own fence from every node');
          throw this.#error(`instances ${[...watched.keys()].join(', ')} renew their lease but did not acknowledge`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        delayMs = Math.min(pollMs, delayMs * 1.5);
        for (const id of acked) watched.delete(id);
        if (watched.size > 0) {
          tally.polls++;
          await this.#poll(fid, watched, marker, cap, tally);
        }
      }
    } finally {
      this.#waiting.delete(fid);
      const { began, instances, lapsed, polls } = tally;
      const durationMs = performance.now() - began;
      this.last = { at: Date.now(), durationMs, instances, acknowledged: acked.size, lapsed, polls, outcome };
    }
  }

  /** Reads the acknowledgements and the leases of `watched` from the store (with tracking, how acknowledgements are found; on the bus, those lost on the way). */
  async #poll(
    fid: string,
    watched: Map<string, Watched>,
    marker: string | undefined,
    cap: number,
    tally: { acknowledged: Set<string>; lapsed: number },
  ): Promise<void> {
    const ids = [...watched.keys()];
    const asked = performance.now();
    const values = await this.fleet.readAfter(
      marker,
      [...ids.map((id) => this.fleet.ackKey(fid, id)), ...ids.map((id) => this.fleet.leaseKey(id))],
      cap,
    );
    const answered = performance.now();
    const pruned: string[] = [];
    ids.forEach((id, i) => {
      const seen = watched.get(id) as Watched;
      const value = values[ids.length + i] ?? ABSENT;
      if (values[i] !== undefined) {
        watched.delete(id);
        tally.acknowledged.add(id);
      } else if (value !== ABSENT && epochOf(value) !== epochOf(seen.value)) {
        // A new epoch: its L1 was flushed and re-leased after the fence was announced.
        watched.delete(id);
        tally.lapsed++;
      } else if (value === seen.value) {
        if (asked < seen.at + this.leaseMs + marginMs(this.leaseMs)) return;
        // Unchanged for a whole lease: no renewal landed, so the instance has stopped serving by its own clock.
        watched.delete(id);
        tally.lapsed++;
        this.#gone.set(id, value);
        if (value === ABSENT) pruned.push(id);
      } else {
        // Renewed in the same epoch: alive, its acknowledgement should come; watch the new value.
        watched.set(id, { value, at: answered });
      }
    });
    if (pruned.length > 0) this.fleet.leave(pruned).catch(() => undefined);
  }

  async #read(ids: readonly string[], marker: string | undefined, cap: number): Promise<Map<string, Watched>> {
    const values = await this.fleet.readAfter(
      marker,
      ids.map((id) => this.fleet.leaseKey(id)),
      cap,
    );
    const at = performance.now();
    return new Map(ids.map((id, i) => [id, { value: values[i] ?? ABSENT, at }]));
  }

  #error(reason: string): BackendError {
    return new BackendError(`L1 barrier: ${reason}`, this.fleet.store.driver ?? 'unknown', { code: 'E_L1_BARRIER' });
  }
}
