import { hash } from 'node:crypto';
import { type Cache, ConfigError, type Ttl } from '@larder/core';
import { parseTtl } from '@larder/core/driver';
import { cacheTagHeader } from '@larder/http';

/** Options of `cacheStorage`. */
export interface CacheStorageOptions {
  /** How long a response without `s-maxage`/`max-age` is kept (the Web Cache API has no expiry of its own). @default '1d' */
  ttl?: Ttl;
  /** Namespace of the entries inside the cache. @default 'cs' */
  prefix?: string;
}

/** A stored response: its request URL, status, headers and body (base64). */
interface StoredEntry {
  u: string;
  s: number;
  t: string;
  h: [string, string][];
  b: string;
}

type RequestLike = Request | string | URL;

/**
 * The Web Cache API's `Cache` over a larder `Cache`: `match`, `matchAll`, `put`, `add`, `addAll`,
 * `delete`, `keys`. Entries are shared by every instance on the same store and purgeable by the
 * tags of their `Cache-Tag` header (`cache.invalidateTags`). Only GET requests are kept, as the
 * Web Cache API says.
 */
export class LarderWebCache {
  constructor(
    private readonly entries: Cache,
    private readonly defaultTtlMs: number,
  ) {}

  /** The stored response for `request`, or `undefined`. */
  async match(request: RequestLike, options?: { ignoreMethod?: boolean }): Promise<Response | undefined> {
    if (!options?.ignoreMethod && request instanceof Request && request.method !== 'GET') return undefined;
    const entry = (await this.entries.get(keyOf(urlOf(request)))) as StoredEntry | undefined;
    return entry === undefined ? undefined : responseOf(entry);
  }

  /** The stored responses for `request` (one at most: one entry per URL), or for every stored request. */
  async matchAll(request?: RequestLike): Promise<Response[]> {
    if (request !== undefined) {
      const one = await this.match(request);
      return one ? [one] : [];
    }
    const found: Response[] = [];
    for await (const key of this.entries.keys()) {
      const entry = (await this.entries.get(key)) as StoredEntry | undefined;
      if (entry) found.push(responseOf(entry));
    }
    return found;
  }

  /** Stores `response` for `request`: a GET, not a 206, not `Vary: *` (else a TypeError, as the API says). */
  async put(request: RequestLike, response: Response): Promise<void> {
    if (request instanceof Request && request.method !== 'GET') {
      throw new TypeError(`Cache.put: only GET requests can be stored, got ${request.method}`);
    }
    if (response.status === 206) throw new TypeError('Cache.put: a partial response (206) cannot be stored');
    if ((response.headers.get('vary') ?? '').split(',').some((name) => name.trim() === '*')) {
      throw new TypeError('Cache.put: a response with Vary: * cannot be stored');
    }
    const url = urlOf(request);
    const body = Buffer.from(await response.arrayBuffer());
    const entry: StoredEntry = {
      u: url,
      s: response.status,
      t: response.statusText,
      h: [...response.headers.entries()],
      b: body.toString('base64'),
    };
    const tags = cacheTagHeader(response.headers.get('cache-tag') ?? undefined);
    const target = tags.length > 0 ? this.entries.tags(tags) : this.entries;
    await target.set(keyOf(url), entry, this.#ttlOf(response.headers.get('cache-control')));
  }

  /** Fetches `request` and stores the response (a non-2xx response is a TypeError and is not stored). */
  async add(request: RequestLike): Promise<void> {
    const response = await fetch(request);
    if (!response.ok) throw new TypeError(`Cache.add: ${urlOf(request)} answered ${response.status}`);
    await this.put(request, response);
  }

  /** `add` for each request. */
  async addAll(requests: RequestLike[]): Promise<void> {
    await Promise.all(requests.map((request) => this.add(request)));
  }

  /** Removes the entry of `request`; resolves true if there was one. */
  async delete(request: RequestLike): Promise<boolean> {
    return this.entries.delete(keyOf(urlOf(request)));
  }

  /** The requests stored (needs a store that lists its keys, else `UnsupportedOperationError`). */
  async keys(request?: RequestLike): Promise<Request[]> {
    const found: Request[] = [];
    for await (const key of this.entries.keys()) {
      const entry = (await this.entries.get(key)) as StoredEntry | undefined;
      if (entry && (request === undefined || entry.u === urlOf(request))) found.push(new Request(entry.u));
    }
    return found;
  }

  #ttlOf(cacheControl: string | null): number {
    const seconds = /(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*(\d+)/i.exec(cacheControl ?? '')?.[1];
    return seconds !== undefined && Number(seconds) > 0 ? Number(seconds) * 1000 : this.defaultTtlMs;
  }
}

/** The Web Cache API's `CacheStorage` over a larder `Cache`: `open`, `has`, `delete`, `keys`, `match`. */
export class LarderCacheStorage {
  readonly #opened = new Map<string, LarderWebCache>();
  readonly #root: Cache;
  readonly #ttlMs: number;

  constructor(cache: Cache, options: CacheStorageOptions = {}) {
    if (typeof cache?.namespace !== 'function') {
      throw new ConfigError('cacheStorage needs a Cache from @larder/core', 'cache');
    }
    this.#root = cache.namespace(options.prefix ?? 'cs');
    this.#ttlMs = parseTtl(options.ttl ?? '1d');
  }

  /** The cache named `name` (the same entries in every instance on the store). */
  async open(name: string): Promise<LarderWebCache> {
    let opened = this.#opened.get(name);
    if (!opened) {
      opened = new LarderWebCache(this.#root.namespace(nameKey(name)), this.#ttlMs);
      this.#opened.set(name, opened);
    }
    return opened;
  }

  /** Whether this instance opened a cache named `name`. */
  async has(name: string): Promise<boolean> {
    return this.#opened.has(name);
  }

  /** Removes every entry of the cache named `name` (only its own keys); resolves true if this instance had opened it. */
  async delete(name: string): Promise<boolean> {
    await this.#root.namespace(nameKey(name)).clear();
    return this.#opened.delete(name);
  }

  /** The names of the caches this instance opened. */
  async keys(): Promise<string[]> {
    return [...this.#opened.keys()];
  }

  /** The first stored response for `request` among the opened caches (or in `cacheName`). */
  async match(request: RequestLike, options?: { cacheName?: string }): Promise<Response | undefined> {
    if (options?.cacheName !== undefined) return (await this.open(options.cacheName)).match(request);
    for (const opened of this.#opened.values()) {
      const found = await opened.match(request);
      if (found) return found;
    }
    return undefined;
  }
}

/** A `CacheStorage` (`globalThis.caches`) over a larder cache: `hono/cache` then works on Node, shared and purgeable by tag. */
export function cacheStorage(cache: Cache, options?: CacheStorageOptions): LarderCacheStorage {
  return new LarderCacheStorage(cache, options);
}

function urlOf(request: RequestLike): string {
  return request instanceof Request ? request.url : String(request);
}

// Keys are digests: a URL of any length or content makes a short key on every backend.
function keyOf(url: string): string {
  return hash('sha256', url, 'base64url');
}

function nameKey(name: string): string {
  return `n${hash('sha256', name, 'base64url').slice(0, 16)}`;
}

function responseOf(entry: StoredEntry): Response {
  const nullBody = entry.s === 204 || entry.s === 304 || (entry.s >= 100 && entry.s < 200);
  return new Response(nullBody ? null : Buffer.from(entry.b, 'base64'), {
    status: entry.s,
    statusText: entry.t,
    headers: entry.h,
  });
}
