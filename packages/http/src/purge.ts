import type { Cache } from '@larder/core';
import { defaultResource, requestFor, resourceScope } from './key';
import { ResponseStore } from './store';

/** The tags of a `Cache-Tag` response header (comma-separated, as CDNs read it; repeated headers joined). */
export function cacheTagHeader(header: unknown): string[] {
  if (header === undefined || header === null) return [];
  const text = Array.isArray(header) ? header.join(',') : String(header);
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

/**
 * Retires every cached response of `url` kept by a `responseCache` on `cache` with the same
 * `prefix` and the default key (path + query): all variants, on every host when `url` is
 * relative, on every instance once it resolves (the drop of the URL's scope). Resolves true if
 * the URL had entries.
 */
export async function invalidate(cache: Cache, url: string, options: { prefix?: string } = {}): Promise<boolean> {
  const store = new ResponseStore(cache.namespace(options.prefix ?? 'rc'), 0, 0);
  return store.invalidate(resourceScope(store.prefix, defaultResource(requestFor(url))), true);
}
