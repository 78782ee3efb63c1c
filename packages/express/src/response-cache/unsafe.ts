import type { IncomingMessage, ServerResponse } from 'node:http';
import { holdCompletion } from './hold';
import { generationKey, normalizeHost, type Origin, originOf, requestFor } from './key';
import type { KeyRequest } from './options';
import { invalidatesUri } from './policy';
import type { ResponseStore } from './store';

/** After a failed invalidation, it is tried again this often until no entry could still be fresh. */
const RETRY_MS = 1000;

/**
 * RFC 9111 §4.4: a non-error response to an unsafe method (POST, PUT, PATCH, DELETE...)
 * invalidates its target URI, and its `Location` and `Content-Location` when they are on the same
 * host. The call that completes the response for the client (`end()`, or the `write()` that
 * completes a declared `Content-Length`: see `holdCompletion`) starts the invalidation and waits
 * for it (at most the lookup budget), so the client's next GET misses and sees its own write. An
 * invalidation the backend refused is retried in the background until `ttl` has passed (no entry
 * stored before it can be fresh after that).
 */
export class Invalidations {
  readonly #retrying = new Set<string>();

  constructor(
    private readonly store: ResponseStore,
    private readonly budgetMs: number,
    private readonly ttlMs: number,
    /** Marks the resource's running handler responses as not to be stored. */
    private readonly retire: (resource: string) => void,
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** Makes the completion of `res` wait for the invalidation of the request's URI when its status is not an error. */
  onSuccess(req: IncomingMessage, res: ServerResponse, keyOf: (req: KeyRequest) => string): void {
    let resource: string;
    try {
      resource = keyOf(req as KeyRequest);
    } catch {
      return;
    }
    if (typeof resource !== 'string') return;
    const origin = originOf(req);
    let started = false;
    const invalidate = (): Promise<unknown> | undefined => {
      if (started) return undefined;
      started = true;
      // The status is final: the headers are out, or go out with this call.
      if (!invalidatesUri(res.statusCode)) return undefined;
      const resources = [resource, ...locations(res, origin, keyOf)];
      const work = Promise.all(resources.map((r) => this.#invalidate(r)));
      this.track(work);
      return withinBudget(work, this.budgetMs);
    };
    holdCompletion(res, invalidate);
    // A response cut short after its status went out (the client left, the handler destroyed it)
    // still says the resource changed: its invalidation runs in the background.
    res.once('close', () => {
      if (res.headersSent) invalidate();
    });
  }

  async #invalidate(resource: string, deadline = Date.now() + this.ttlMs): Promise<void> {
    this.retire(resource);
    const key = generationKey(resource);
    let failed = false;
    try {
      await this.store.invalidate(key);
      // A cache with `onError: 'miss'` drops a failed write silently; the store saw its error event.
      failed = !this.store.available();
    } catch {
      failed = true;
      this.store.markDown();
    }
    if (!failed || Date.now() + RETRY_MS > deadline || this.#retrying.has(key)) return;
    this.#retrying.add(key);
    setTimeout(() => {
      this.#retrying.delete(key);
      this.#invalidate(resource, deadline).catch(() => {});
    }, RETRY_MS).unref();
  }
}

/** The resources of `Location` and `Content-Location` when they are on the request's host. */
function locations(res: ServerResponse, origin: Origin, keyOf: (req: KeyRequest) => string): string[] {
  const found: string[] = [];
  for (const name of ['location', 'content-location']) {
    const value = res.getHeader(name);
    if (typeof value !== 'string') continue;
    try {
      const url = new URL(value, `${origin.scheme}://${origin.host || 'localhost'}`);
      if (normalizeHost(url.host, url.protocol.replace(':', '')) !== origin.host) continue;
      const resource = keyOf(requestFor(url.pathname + url.search));
      if (typeof resource === 'string') found.push(resource);
    } catch {
      // An unparsable location names nothing to invalidate.
    }
  }
  return found;
}

/** Resolves when `work` settles or after `ms`, whichever comes first. */
function withinBudget(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([work.then(() => undefined), budget]).finally(() => clearTimeout(timer));
}
