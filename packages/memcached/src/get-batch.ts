import type { BackendError, Payload } from '@larder/core';
import { type BinaryResponse, Opcode, Status } from './binary-protocol';
import { looksHashed, toMemcachedKey } from './keys';
import { matchAnswers } from './quiet-gets';
import type { Requests } from './requests';
import type { Node, Topology } from './topology';

/** Keys of one node in a getMany, with their positions in the caller's list. */
interface KeyGroup {
  keys: string[];
  indexes: number[];
}

interface PendingGet {
  waiters: { resolve: (payload: Payload | undefined) => void; reject: (error: unknown) => void }[];
  attempt: number;
}

/**
 * Batched reads: `get`s issued in one tick share one request per node (a GET for one key, quiet
 * GETKQ… + NOOP for more), `getMany` is one quiet-get request per node. A node's transport failure
 * sends its keys back through the ring (retried, or re-routed once the node is ejected).
 */
export class GetBatcher {
  private batch: Map<Node, Map<string, PendingGet>> | undefined;

  constructor(
    private readonly topology: Topology,
    private readonly requests: Requests,
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
    return new Promise((resolve, reject) => {
      let batch = this.batch;
      if (!batch) {
        batch = new Map();
        this.batch = batch;
        // Flush after the current tick's microtasks: every get issued meanwhile shares the request.
        process.nextTick(() => this.flush());
      }
      let perNode = batch.get(node);
      if (!perNode) {
        perNode = new Map();
        batch.set(node, perNode);
      }
      const pending = perNode.get(mkey);
      if (pending) pending.waiters.push({ resolve, reject });
      else perNode.set(mkey, { waiters: [{ resolve, reject }], attempt });
    });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch) return;
    for (const [node, pending] of batch) void this.run(node, pending);
  }

  private async run(node: Node, pending: Map<string, PendingGet>): Promise<void> {
    try {
      if (pending.size === 1) {
        const [mkey, entry] = pending.entries().next().value as [string, PendingGet];
        const response = await node.connection.request({ opcode: Opcode.GET, key: mkey });
        this.topology.success(node);
        const { status } = response.header;
        if (status === Status.OK) settle(entry, response.val);
        else if (status === Status.KEY_NOT_FOUND) settle(entry, undefined);
        else reject(entry, this.requests.statusError('get', response));
        return;
      }
      const keys = [...pending.keys()];
      const entries = [...pending.values()];
      const answers = await node.connection.quietGets(keys);
      this.topology.success(node);
      const payloads = new Array<Payload | undefined>(keys.length).fill(undefined);
      const errors: (BackendError | undefined)[] = [];
      matchAnswers(keys, answers, (j, answer) => {
        if (answer.header.status === Status.OK) payloads[j] = answer.val;
        else errors[j] = this.requests.statusError('get', answer);
      });
      // Quiet gets say nothing for a miss.
      for (let j = 0; j < entries.length; j++) {
        const error = errors[j];
        if (error) reject(entries[j]!, error);
        else settle(entries[j]!, payloads[j]);
      }
    } catch (error) {
      const ejected = this.topology.failure(node);
      for (const [mkey, entry] of pending) {
        if (this.requests.retryable(error, entry.attempt, ejected)) {
          let retry: Promise<Payload | undefined>;
          try {
            retry = this.get(mkey, entry.attempt + 1);
          } catch (routeError) {
            reject(entry, routeError);
            continue;
          }
          retry.then(
            (payload) => settle(entry, payload),
            (retryError) => reject(entry, retryError),
          );
        } else {
          reject(entry, this.requests.transportError('get', node, error));
        }
      }
    }
  }
}

function settle(entry: PendingGet, payload: Payload | undefined): void {
  for (const waiter of entry.waiters) waiter.resolve(payload);
}

function reject(entry: PendingGet, error: unknown): void {
  for (const waiter of entry.waiters) waiter.reject(error);
}
