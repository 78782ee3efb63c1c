import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FleetBackend } from '../contract/invalidation';
import type { Payload, TtlMs } from '../contract/store';
import { withTimeout } from '../util/timeout';

/** The reserved namespace of the L1 fleet's announced keys (fences), under the store prefix (docs/architecture.md "The barrier"). */
export const FLEET_NAMESPACE = '__larder:l1:';

/**
 * The reserved root of the fleet's quiet keys (leases, the registry, acknowledgements), before the
 * store prefix: outside it, so no instance is told of them (tracking broadcasts every write under
 * the prefix: an idle fleet would hear N renewals per lease period each, N² in all, and each fence's
 * N acknowledgements would reach N instances). `clear()` of the prefix keeps them.
 */
export const QUIET_FLEET_ROOT = '__larder:fleet:';

export type { FleetBackend } from '../contract/invalidation';

/** A random id for an instance, an epoch or a fence (base36, no `:` nor `.`). */
export function randomId(): string {
  return BigInt(`0x${randomBytes(10).toString('hex')}`).toString(36);
}

// The registry is rewritten with compare-and-set; instances join and leave rarely, so a few retries suffice.
const REGISTRY_ATTEMPTS = 16;
const decoder = new TextDecoder();

/**
 * The keys and store calls of the L1 fleet sharing one store prefix: the registry of instance ids
 * (`members`, a set, on a store with one; else `instances`, rewritten with compare-and-set), each instance's lease (`lease:<id>`) and its
 * acknowledgements of fences (`ack:<fid>:<id>`) under the quiet root; fences (`fence:<fid>`) under the
 * announced root, in the channel's store when it offers one (the bus's Redis), else the cache's.
 * Every call is bounded by
 * `timeoutMs`. `publish` (the bus) tells other instances of a key; without it (tracking) the
 * store write itself is what they hear.
 */
export class FleetStore {
  /** Root of the keys every instance hears of (fences and acknowledgements), under the store prefix. */
  readonly root: string;
  /** Root of the keys nobody is told of (leases, the registry), outside the store prefix (see `QUIET_FLEET_ROOT`). */
  readonly quietRoot: string;

  constructor(
    readonly cacheStore: FleetBackend,
    prefix: string,
    readonly timeoutMs: number,
    readonly publish: ((keys: readonly string[]) => void) | undefined,
    /** The channel's own store for the fleet's state (`InvalidationSource.fleetStore`: the bus's Redis), when it has one. */
    readonly channelStore: (() => FleetBackend | undefined) | undefined = undefined,
  ) {
    this.root = `${prefix}${FLEET_NAMESPACE}`;
    this.quietRoot = `${QUIET_FLEET_ROOT}${prefix}`;
  }

  /** Where the fleet's keys live: the channel's store when it offers one (an idle instance then writes nothing to the cache's store), else the cache's. */
  get store(): FleetBackend {
    return this.channelStore?.() ?? this.cacheStore;
  }

  /** Key of an instance's lease (renewed silently: see `quietRoot`). */
  leaseKey(id: string): string {
    return `${this.quietRoot}lease:${id}`;
  }

  /** Key of a fence. */
  fenceKey(fid: string): string {
    return `${this.root}fence:${fid}`;
  }

  /** Key of an instance's acknowledgement of a fence: quiet, read by the fence's writer alone (see `quietRoot`). */
  ackKey(fid: string, id: string): string {
    return `${this.quietRoot}ack:${fid}:${id}`;
  }

  /**
   * Acknowledges the fence `fid` for the instance `id`: stored under the quiet root, where only the
   * fence's writer reads it; on the bus also published (as `<root>fence:<fid>:<id>`), which wakes
   * the writer at once. With tracking nothing is heard: the writer polls.
   */
  async acknowledge(fid: string, id: string, ttlMs: number): Promise<void> {
    this.publish?.([`${this.fenceKey(fid)}:${id}`]);
    await this.set(this.ackKey(fid, id), '1', ttlMs);
  }

  /** Announces `key` to every instance: published on the bus, else written to the cache's store (tracking broadcasts it). */
  async announce(key: string, ttlMs: number): Promise<void> {
    this.publish?.([key]);
    if (this.publish === undefined) await this.#bounded(this.cacheStore.set(key, '1', ttlMs), 'set');
  }

  /** Stores `value` at `key`. */
  async set(key: string, value: string, ttlMs: TtlMs): Promise<void> {
    await this.#bounded(this.store.set(key, value, ttlMs), 'set');
  }

  /** Replaces `expected` by `value` at `key` atomically; false when the key holds something else (or nothing). */
  swap(key: string, expected: string, value: string, ttlMs: TtlMs): Promise<boolean> {
    return this.#bounded(this.store.compareAndSet(key, expected, value, ttlMs), 'compareAndSet');
  }

  /** Deletes `key`. */
  async delete(key: string): Promise<void> {
    await this.#bounded(this.store.delete(key), 'delete');
  }

  /** The text at each key (`undefined` when absent), in one call when the store has `getMany`. */
  async readMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    const store = this.store;
    const payloads =
      typeof store.getMany === 'function'
        ? await this.#bounded(store.getMany(keys), 'getMany')
        : await Promise.all(keys.map((key) => this.#bounded(store.get(key), 'get')));
    return payloads.map(text);
  }

  /**
   * `keys` read in one call together with `marker` (a fence this process wrote), retried until the
   * marker shows: a store that reads from a lagging replica then answers as of a moment after the
   * fence (one replica applies writes in order). `undefined` marker: read once.
   */
  async readAfter(
    marker: string | undefined,
    keys: readonly string[],
    untilMs: number,
  ): Promise<(string | undefined)[]> {
    for (let attempt = 1; ; attempt++) {
      const values = await this.readMany(marker === undefined ? keys : [marker, ...keys]);
      if (marker === undefined) return values;
      if (values[0] !== undefined) return values.slice(1);
      if (performance.now() > untilMs) throw new Error(`the fence ${marker} did not show in the store`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 * attempt)));
    }
  }

  /** The registered instance ids, read after `marker` (see `readAfter`; a store with a member set answers from its primary). */
  async members(marker: string | undefined, untilMs: number): Promise<string[]> {
    const { listMembers } = this.store;
    if (listMembers !== undefined) return this.#bounded(listMembers.call(this.store, this.#set), 'listMembers');
    return parseMembers((await this.readAfter(marker, [this.#registry], untilMs))[0]);
  }

  /** Registers the instance `id`. */
  async join(id: string): Promise<void> {
    const { addMember } = this.store;
    if (addMember !== undefined) return this.#bounded(addMember.call(this.store, this.#set, id), 'addMember');
    await this.#updateMembers((ids) => (ids.includes(id) ? ids : [...ids, id]));
  }

  /** Removes the instances `ids` from the registry (left, or pruned: their lease is gone). */
  async leave(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { removeMembers } = this.store;
    if (removeMembers !== undefined)
      return this.#bounded(removeMembers.call(this.store, this.#set, ids), 'removeMembers');
    await this.#updateMembers((members) => members.filter((id) => !ids.includes(id)));
  }

  /** Rewrites the registry with `change` (compare-and-set, retried on a concurrent change); no write when nothing changes. */
  async #updateMembers(change: (ids: string[]) => string[]): Promise<void> {
    for (let attempt = 0; attempt < REGISTRY_ATTEMPTS; attempt++) {
      const current = text(await this.#bounded(this.store.get(this.#registry), 'get'));
      const before = parseMembers(current);
      const after = change(before);
      if (after.length === before.length && after.every((id, i) => id === before[i])) return;
      // The registry never expires: it is pruned of instances whose lease is gone.
      const next = JSON.stringify(after);
      if (await this.#bounded(this.store.compareAndSet(this.#registry, current, next, undefined), 'compareAndSet'))
        return;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
    }
    throw new Error('the L1 registry changed on every attempt');
  }

  /** The registry as one key (a JSON array of ids), on a store without a member set. */
  get #registry(): string {
    return `${this.quietRoot}instances`;
  }

  /** The registry as a set (`addMember`...): another key, as its type differs. */
  get #set(): string {
    return `${this.quietRoot}members`;
  }

  #bounded<T>(promise: Promise<T>, operation: string): Promise<T> {
    return withTimeout(promise, this.timeoutMs, operation, this.store.driver ?? 'unknown');
  }
}

function text(payload: Payload | undefined): string | undefined {
  return payload === undefined || typeof payload === 'string' ? payload : decoder.decode(payload);
}

function parseMembers(value: string | undefined): string[] {
  if (value === undefined) return [];
  try {
    const ids: unknown = JSON.parse(value);
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}
