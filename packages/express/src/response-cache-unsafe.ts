import type { IncomingMessage, ServerResponse } from 'node:http';
import { generationKey, normalizeHost, type Origin, originOf, requestFor } from './response-cache-key';
import type { KeyRequest } from './response-cache-options';
import { invalidatesUri } from './response-cache-policy';
import type { ResponseStore } from './response-cache-store';

/** After a failed invalidation, it is tried again this often until no entry could still be fresh. */
const RETRY_MS = 1000;

/**
 * RFC 9111 §4.4: a non-error response to an unsafe method (POST, PUT, PATCH, DELETE...)
 * invalidates its target URI, and its `Location` and `Content-Location` when they are on the same
 * host. The response's end waits for the invalidation (at most the lookup budget), so the
 * client's next GET misses and sees its own write. An invalidation the backend refused is retried
 * in the background until `ttl` has passed (no entry stored before it can be fresh after that).
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

  /** Makes the end of `res` invalidate the request's URI when its status is not an error. */
  onSuccess(req: IncomingMessage, res: ServerResponse, keyOf: (req: KeyRequest) => string): void {
    let resource: string;
    try {
      resource = keyOf(req as KeyRequest);
    } catch {
      return;
    }
    if (typeof resource !== 'string') return;
    const origin = originOf(req);
    const end = res.end;
    const invalidations = this;
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      res.end = end;
      if (!invalidatesUri(res.statusCode)) return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
      const resources = [resource, ...locations(res, origin, keyOf)];
      const work = Promise.all(resources.map((r) => invalidations.#invalidate(r)));
      invalidations.track(work);
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, invalidations.budgetMs);
      });
      Promise.race([work, budget]).then(() => {
        clearTimeout(timer);
        (end as (...a: unknown[]) => ServerResponse).apply(this, args);
      });
      return this;
    } as ServerResponse['end'];
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
