import { type Payload, TickBatcher } from '@larder/core/driver';
import { type BinaryResponse, Opcode, Status } from './binary-protocol';
import type { CasMemo } from './cas-memo';
import { looksHashed, toMemcachedKey } from './keys';
import { matchAnswers } from './quiet-gets';
import type { Requests } from './requests';
import type { Node, Topology } from './topology';

/** Keys of one node in a getMany, with their positions in the caller's list. */
interface KeyGroup {
  keys: string[];
  indexes: number[];
}

/**
 * Batched reads: `get`s issued in one tick share one request per node (a GET for one key, quiet
 * GETKQ… + NOOP for more; core's `TickBatcher`), `getMany` is one quiet-get request per node. A
 * node's transport failure sends its keys back through the ring (retried, or re-routed once the
 * node is ejected). Each `get` answer's CAS and value go to the CAS memo (see cas-memo.ts); `getMany`'s
 * do not (copying every value would tax the bulk path, and a compare-and-set follows a single `get`).
 */
export class GetBatcher {
  /**
   * A tick batcher per node, one set per attempt (0 = first try): a retried key waits in a batch of
   * its own attempt, so the retry limit counts each key's tries. Weak: a node dropped by discovery goes.
   */
  private readonly batchers: WeakMap<Node, TickBatcher<Payload | undefined>>[] = [];

  constructor(
    private readonly topology: Topology,
    private readonly requests: Requests,
    private readonly memo: CasMemo,
  ) {}

  /** Returns payloads aligned with `keys`: one quiet-get request (GETKQ… + NOOP) per node. */
  async getMany(keys: readonly string[]): Promise<(Payload | undefined)[]> {
    const results = new Array<Payload | undefined>(keys.length).fill(undefined);
    const groups = new Map<Node, KeyGroup>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      // The memo holds only memcached keys: a hit on a key not shaped like a hashed key means it is
      // a literal one (stored as it is), so skip the validation. A hashed-shaped key must be hashed.
      let mkey = key;
      let node = looksHashed(key) ? undefined : this.topology.memoized(key);
      if (!node) {
        mkey = toMemcachedKey(key);
        node = this.topology.place(mkey);
      }
      const group = groups.get(node);
      if (group) {
        group.keys.push(mkey);
        group.indexes.push(i);
      } else {
        groups.set(node, { keys: [mkey], indexes: [i] });
      }
    }
    const requests: Promise<void>[] = [];
    for (const [node, group] of groups) requests.push(this.getGroup(node, group, results));
    await Promise.all(requests);
    return results;
  }

  /** One node's share of a getMany: its hits land in `results` at the keys' positions. */
  private async getGroup(node: Node, group: KeyGroup, results: (Payload | undefined)[]): Promise<void> {
    let answers: BinaryResponse[];
    try {
      // Duplicate keys are sent twice (cheaper than a map per key); each gets its own answer.
      answers = await node.connection.quietGets(group.keys);
      this.topology.success(node);
    } catch (error) {
      const ejected = this.topology.failure(node);
      if (!this.requests.retryable(error, 0, ejected)) throw this.requests.transportError('getMany', node, error);
      // Retry (re-routed when the node is out) through the single-key path, which counts further failures.
      await Promise.all(
        group.keys.map(async (mkey, j) => {
          results[group.indexes[j]!] = await this.get(mkey, 1);
        }),
      );
      return;
    }
    for (const answer of answers)
      if (answer.header.status !== Status.OK) throw this.requests.statusError('getMany', answer);
    matchAnswers(group.keys, answers, (j, answer) => {
      results[group.indexes[j]!] = answer.val;
    });
  }

  /** Queues a get of a memcached key; gets of one tick share one request per node. */
  get(mkey: string, attempt: number): Promise<Payload | undefined> {
    const node = this.topology.place(mkey);
    let perNode = this.batchers[attempt];
    if (!perNode) {
      perNode = new WeakMap();
      this.batchers[attempt] = perNode;
    }
    let batcher = perNode.get(node);
    if (!batcher) {
      batcher = new TickBatcher({
        readOne: (key) => this.readOne(node, key, attempt),
        readMany: (keys) => this.readMany(node, keys, attempt),
      });
      perNode.set(node, batcher);
    }
    return batcher.load(mkey);
  }

  /** One key of a node: a plain GET. */
  private async readOne(node: Node, mkey: string, attempt: number): Promise<Payload | undefined> {
    let response: BinaryResponse;
    try {
      response = await node.connection.request({ opcode: Opcode.GET, key: mkey });
    } catch (error) {
      return this.afterFailure(node, [mkey], attempt, error)[0]!;
    }
    this.topology.success(node);
    const { status } = response.header;
    if (status === Status.OK) {
      this.memo.remember(mkey, node, response);
      return response.val;
    }
    this.memo.drop(mkey);
    if (status === Status.KEY_NOT_FOUND) return undefined;
    throw this.requests.statusError('get', response);
  }

  /** Keys of a node: quiet gets (GETKQ… + NOOP), which say nothing for a miss; a failure status fails only its key. */
  private async readMany(
    node: Node,
    keys: string[],
    attempt: number,
  ): Promise<(Payload | undefined | Promise<Payload | undefined>)[]> {
    let answers: BinaryResponse[];
    try {
      answers = await node.connection.quietGets(keys);
    } catch (error) {
      return this.afterFailure(node, keys, attempt, error);
    }
    this.topology.success(node);
    const values = new Array<Payload | undefined | Promise<Payload | undefined>>(keys.length).fill(undefined);
    matchAnswers(keys, answers, (j, answer) => {
      if (answer.header.status === Status.OK) {
        this.memo.remember(keys[j]!, node, answer);
        values[j] = answer.val;
      } else {
        values[j] = Promise.reject(this.requests.statusError('get', answer));
      }
    });
    // Misses (no answer) and failures: an older entry of the key is of no more use.
    for (let j = 0; j < keys.length; j++) if (!(values[j] instanceof Buffer)) this.memo.drop(keys[j]!);
    return values;
  }

  /** After a node's transport failure, each key is retried through the ring (re-routed once the node is ejected) or fails. */
  private afterFailure(node: Node, keys: string[], attempt: number, error: unknown): Promise<Payload | undefined>[] {
    const ejected = this.topology.failure(node);
    return keys.map((mkey) => {
      if (!this.requests.retryable(error, attempt, ejected)) {
        return Promise.reject(this.requests.transportError('get', node, error));
      }
      try {
        return this.get(mkey, attempt + 1);
      } catch (routeError) {
        return Promise.reject(routeError);
      }
    });
  }
}
