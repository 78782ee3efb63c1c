import { BackendError, isLarderError, TimeoutError } from '@larder/core';
import { scrubError, scrubText } from '@larder/core/driver';
import { type BinaryResponse, Opcode, type Request, statusText } from './binary-protocol';
import { explainMemcachedError } from './explain';
import { RequestTimeout } from './node-connection';
import type { ResolvedOptions } from './options';
import type { Node, Topology } from './topology';

const DRIVER = 'memcached';

/**
 * Requests through the ring: each goes to its key's node, transport failures count against the
 * node (and re-route once it is ejected), idempotent requests are retried, and failures become
 * larder's typed errors, with the SASL credentials scrubbed from what they wrap.
 */
export class Requests {
  constructor(
    private readonly topology: Topology,
    private readonly options: ResolvedOptions,
    private readonly secrets: readonly string[],
  ) {}

  /** One request to the key's node; transport failures count against the node and idempotent ones are retried. */
  async send(op: string, mkey: string, request: Request, idempotent: boolean): Promise<BinaryResponse> {
    const read = request.opcode === Opcode.GET || request.opcode === Opcode.GETK;
    for (let attempt = 0; ; attempt++) {
      // A write goes only to the key's home node (see `Topology.placeWrite`).
      const node = read ? this.topology.place(mkey) : this.topology.placeWrite(mkey);
      try {
        const response = await node.connection.request(request);
        this.topology.success(node);
        return response;
      } catch (error) {
        const ejected = this.topology.failure(node);
        if (!idempotent || !this.retryable(error, attempt, ejected)) throw this.transportError(op, node, error);
      }
    }
  }

  /** Sends quiet requests grouped by node (one write each) and hands each node's failure answers to `check`. */
  async quietPerNode(op: string, requests: Request[], check: (answers: BinaryResponse[]) => void): Promise<void> {
    const groups = new Map<Node, Request[]>();
    for (const request of requests) {
      // Quiet batches are writes (setMany, deleteMany): to the keys' home nodes only.
      const node = this.topology.placeWrite(String(request.key));
      const group = groups.get(node);
      if (group) group.push(request);
      else groups.set(node, [request]);
    }
    await Promise.all(
      [...groups].map(async ([node, group]) => {
        for (let attempt = 0; ; attempt++) {
          try {
            const answers = await node.connection.quiet(group);
            this.topology.success(node);
            check(answers);
            return;
          } catch (error) {
            if (isLarderError(error)) throw error;
            const ejected = this.topology.failure(node);
            // The node's keys live elsewhere now: resend them through the ring.
            if (ejected) return this.quietPerNode(op, group, check);
            if (!this.retryable(error, attempt, false)) throw this.transportError(op, node, error);
          }
        }
      }),
    );
  }

  /**
   * Whether a failed attempt is sent again: always once its node is ejected (the key lives on another
   * node now), else up to `retries` times, but never after a timeout: the call's time is spent.
   */
  retryable(error: unknown, attempt: number, ejected: boolean): boolean {
    return ejected || (attempt < this.options.retries && !(error instanceof RequestTimeout));
  }

  /** The error of an answer with a failure status. */
  statusError(op: string, response: BinaryResponse): BackendError {
    const text = statusText(response.header.status);
    const detail = scrubText(response.val.toString(), this.secrets);
    return new BackendError(`memcached ${op} failed: ${text}`, DRIVER, { cause: detail || text });
  }

  /** The error of a transport failure (a TimeoutError when the node did not answer in time). */
  transportError(op: string, node: Node, error: unknown): BackendError {
    if (isLarderError(error, 'E_BACKEND') || isLarderError(error, 'E_TIMEOUT')) return error;
    if (error instanceof RequestTimeout) return new TimeoutError(op, DRIVER, this.options.timeoutMs);
    // Wrap a scrubbed copy: the client's error (or its cause) may carry the SASL credentials.
    const cause = scrubError(error, this.secrets);
    const source = this.options.configEndpoint ? 'MEMCACHED_CONFIG_ENDPOINT' : 'MEMCACHED_SERVERS';
    const words = explainMemcachedError(cause, node.id, source) ?? cause.message;
    return new BackendError(`memcached ${op} on ${node.id} failed: ${words}`, DRIVER, { cause });
  }
}
