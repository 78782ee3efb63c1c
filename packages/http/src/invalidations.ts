import { normalizeHost, type Origin, requestFor, resourceScope } from './key';
import type { KeyRequest } from './options';
import { invalidatesUri } from './policy';
import type { ResponseStore } from './store';

/** After a failed invalidation, it is tried again this often until no entry could still be fresh. */
const RETRY_MS = 1000;

/**
 * RFC 9111 §4.4: a non-error response to an unsafe method (POST, PUT, PATCH, DELETE...)
 * invalidates its target URI, and its `Location` and `Content-Location` when they are on the same
 * host. A binding holds the response back from its client until `afterUnsafe` resolves (at most
 * the lookup budget), so the client's next GET misses and sees its own write. An invalidation the
 * backend refused is retried in the background until `ttl` has passed (no entry stored before it
 * can be fresh after that).
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

  /**
   * Invalidates `resource` (and the same-host `locations`) when an unsafe request was answered
   * with `status`; resolves when done or after the lookup budget; `undefined` when nothing is due.
   */
  afterUnsafe(
    resource: string,
    origin: Origin,
    status: number,
    locations: readonly unknown[],
    keyOf: (req: KeyRequest) => string,
  ): Promise<void> | undefined {
    if (!invalidatesUri(status)) return undefined;
    const resources = [resource, ...sameHost(locations, origin, keyOf)];
    const work = Promise.all(resources.map((r) => this.#invalidate(r)));
    this.track(work);
    return withinBudget(work, this.budgetMs);
  }

  async #invalidate(resource: string, deadline = Date.now() + this.ttlMs): Promise<void> {
    this.retire(resource);
    const key = resourceScope(this.store.prefix, resource);
    let failed = false;
    try {
      // Rejects on a backend failure whatever the cache's `onError` (ResponseStore's calls throw).
      await this.store.invalidate(key);
    } catch {
      failed = true;
    }
    if (!failed || Date.now() + RETRY_MS > deadline || this.#retrying.has(key)) return;
    this.#retrying.add(key);
    setTimeout(() => {
      this.#retrying.delete(key);
      this.#invalidate(resource, deadline).catch(() => {});
    }, RETRY_MS).unref();
  }
}

/** The resources of `Location` and `Content-Location` values when they are on the request's host. */
function sameHost(values: readonly unknown[], origin: Origin, keyOf: (req: KeyRequest) => string): string[] {
  const found: string[] = [];
  for (const value of values) {
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
