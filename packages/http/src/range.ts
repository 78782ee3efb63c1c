import type { OutgoingHttpHeaders } from 'node:http';
import { httpDate } from './dates';

/** One byte range of a stored body, inclusive (RFC 9110 §14.1.2). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The single byte range `Range` asks of a body of `length` bytes, or `undefined` when the cache
 * should not answer it itself: several ranges, another unit, bad syntax, or nothing satisfiable
 * (the handler then answers, 416 included).
 */
export function parseRange(header: string, length: number): ByteRange | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || length === 0) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '') {
    if (last === '') return undefined;
    const suffix = Number(last);
    if (suffix === 0) return undefined;
    return { start: Math.max(0, length - suffix), end: length - 1 };
  }
  const start = Number(first);
  const end = last === '' ? length - 1 : Math.min(Number(last), length - 1);
  if (start >= length || end < start) return undefined;
  return { start, end };
}

/**
 * RFC 9110 §13.1.5: with `If-Range`, a range may be served only if the validator matches the
 * stored response exactly: a strong ETag equal to its (strong) ETag, or its `Last-Modified` date.
 */
export function rangeMayUse(
  ifRange: string | undefined,
  etag: OutgoingHttpHeaders[string],
  lastModified: OutgoingHttpHeaders[string],
): boolean {
  if (ifRange === undefined) return true;
  const condition = ifRange.trim();
  if (condition.startsWith('"') || condition.startsWith('W/')) {
    return !condition.startsWith('W/') && etag !== undefined && String(etag) === condition;
  }
  if (lastModified === undefined) return false;
  const at = httpDate(condition);
  return !Number.isNaN(at) && at === httpDate(String(lastModified));
}

/** RFC 9110 §13.1.2 `If-None-Match` (weak comparison) against a stored ETag. */
export function noneMatch(header: string, etag: OutgoingHttpHeaders[string]): boolean {
  if (etag === undefined) return false;
  if (header.trim() === '*') return true;
  const own = String(etag).replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === own);
}

/** RFC 9110 §13.1.3 `If-Modified-Since`: not modified when `Last-Modified` is no later. */
export function notModifiedSince(header: string, lastModified: OutgoingHttpHeaders[string]): boolean {
  if (lastModified === undefined) return false;
  const since = httpDate(header);
  const modified = httpDate(String(lastModified));
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}
