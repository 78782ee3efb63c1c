import type { IncomingMessage, ServerResponse } from 'node:http';
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

/**
 * Answers a request from a stored response: its headers with the origin's `Date`, `Age` (its own
 * age when stored plus the time since), `X-Cache: HIT`, `Cache-Status`; a 304 when the request's
 * validator matches, a 206 with the asked range, else the stored status and body.
 */
export function replay(req: IncomingMessage, res: ServerResponse, entry: StoredResponse, options: ReplayOptions): void {
  const headers = entry.headers;
  for (const name in headers) res.setHeader(name, headers[name] as string | string[]);
  res.setHeader('X-Cache', options.xCache ?? 'HIT');
  res.setHeader('Cache-Status', options.status);
  // The stored Date is the origin's (RFC 9110 §6.6.1); entries written before it was kept get their storage time.
  if (headers.date === undefined) res.setHeader('Date', new Date(entry.storedAt).toUTCString());
  res.setHeader('Age', String(Math.max(0, entry.age + Math.floor((options.now - entry.storedAt) / 1000))));
  if (entry.status === 200 && notModified(req, entry)) {
    res.statusCode = 304;
    for (const name of ['content-length', 'content-type', 'content-encoding', 'content-range']) res.removeHeader(name);
    res.end();
    return;
  }
  let body = entry.body;
  if (options.range) {
    const { start, end } = options.range;
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${body.length}`);
    body = body.subarray(start, end + 1);
  } else {
    res.statusCode = entry.status;
  }
  res.setHeader('Content-Length', body.length);
  if (options.head) res.end();
  else res.end(body);
}

/** RFC 9110 §13.2.2: `If-None-Match` decides when present, else `If-Modified-Since`. */
function notModified(req: IncomingMessage, entry: StoredResponse): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) return noneMatch(ifNoneMatch, entry.headers.etag);
  const since = req.headers['if-modified-since'];
  return since !== undefined && notModifiedSince(since, entry.headers['last-modified']);
}
