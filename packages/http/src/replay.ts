import type { IncomingHttpHeaders } from 'node:http';
import { imfDate } from './dates';
import type { StoredResponse } from './entry';
import { type ByteRange, noneMatch, notModifiedSince } from './range';

/** How a stored response answers one request. */
export interface ReplayOptions {
  /** `Cache-Status` value. */
  status: string;
  /** HEAD: headers only. */
  head: boolean;
  /** The one byte range to send (206). */
  range?: ByteRange;
  now: number;
  /** `X-Cache` value. @default 'HIT' (the handler ran: `MISS`) */
  xCache?: string;
}

/** A response made from a stored one, for a binding to send. */
export interface Replayed {
  status: number;
  /** The stored headers (the entry's own object: never changed), but those in `removed`. */
  stored: Readonly<Record<string, string | string[]>>;
  /** The cache's headers, set over the stored ones and those the response already has. */
  added: Record<string, string>;
  /** Headers not sent: not from the entry, and taken off the response (a 304 has no content headers). */
  removed: readonly string[];
  /** The body; `undefined` for a 304 or a HEAD. */
  body: Buffer | undefined;
}

const NOT_IN_304 = ['content-length', 'content-type', 'content-encoding', 'content-range'];
const NONE: readonly string[] = [];

/**
 * Answers a request from a stored response: its headers with the origin's `Date`, `Age` (its own
 * age when stored plus the time since), `X-Cache: HIT`, `Cache-Status`; a 304 when the request's
 * validator matches, a 206 with the asked range, else the stored status and body. The stored
 * headers are handed as they are (no copy per hit).
 */
export function replayed(request: IncomingHttpHeaders, entry: StoredResponse, options: ReplayOptions): Replayed {
  const added: Record<string, string> = {
    'X-Cache': options.xCache ?? 'HIT',
    'Cache-Status': options.status,
    Age: String(Math.max(0, entry.age + Math.floor((options.now - entry.storedAt) / 1000))),
  };
  // The stored Date is the origin's (RFC 9110 §6.6.1); entries written before it was kept get their storage time.
  if (entry.headers.date === undefined) added.Date = imfDate(entry.storedAt);
  if (entry.status === 200 && notModified(request, entry)) {
    return { status: 304, stored: entry.headers, added, removed: NOT_IN_304, body: undefined };
  }
  let body = entry.body;
  let status = entry.status;
  if (options.range) {
    const { start, end } = options.range;
    status = 206;
    added['Content-Range'] = `bytes ${start}-${end}/${body.length}`;
    body = body.subarray(start, end + 1);
  }
  added['Content-Length'] = String(body.length);
  return { status, stored: entry.headers, added, removed: NONE, body: options.head ? undefined : body };
}

/** RFC 9110 §13.2.2: `If-None-Match` decides when present, else `If-Modified-Since`. */
function notModified(request: IncomingHttpHeaders, entry: StoredResponse): boolean {
  const ifNoneMatch = request['if-none-match'];
  if (ifNoneMatch !== undefined) return noneMatch(ifNoneMatch, entry.headers.etag);
  const since = request['if-modified-since'];
  return since !== undefined && notModifiedSince(since, entry.headers['last-modified']);
}
