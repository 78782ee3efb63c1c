import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A response as the handler produced it. */
export interface Captured {
  status: number;
  /**
   * Headers at the moment the handler's response headed out, as this middleware saw them: a
   * middleware mounted before it that changes them at send time (compression's `Content-Encoding`)
   * is not in them, and its change of the body is not in `body` either. A hit replays both
   * through that same middleware again, which applies its change for the client at hand.
   */
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** What the capture reports. */
export interface CaptureHooks {
  /**
   * Once, just before the headers are sent (the last moment to set one): status and headers,
   * and whether the whole body is already known (`res.end` with no earlier write).
   */
  onHead(status: number, headers: OutgoingHttpHeaders, complete: boolean): void;
  /** Once: the response if it finished whole within `maxBodyBytes`, else `undefined` (destroyed, too large, short). */
  onDone(captured: Captured | undefined): void;
  /**
   * Whether a response heading out with this status is kept from the client (a revalidation's 304,
   * an error answered by a stale entry). Pure: it may be asked twice for one response.
   */
  intercept?(status: number): boolean;
  /**
   * Once, when an intercepted response ends: its status and headers. Nothing of it went out; from
   * here on every call of `res` passes straight through (this hook answers the client).
   */
  onIntercepted?(status: number, headers: OutgoingHttpHeaders): void;
}

type WriteHead = (statusCode: number, ...rest: unknown[]) => ServerResponse;

/**
 * Records what the handler writes (status, headers, body) by wrapping `writeHead`, `write` and
 * `end` of this response; everything is passed on unchanged.
 */
export function captureResponse(res: ServerResponse, maxBodyBytes: number, hooks: CaptureHooks): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  let ending = false;
  let head: { status: number; headers: OutgoingHttpHeaders } | undefined;
  let settled = false;
  // A response kept from the client (`intercept`), then `through`: every call passes unrecorded.
  let intercepted: { status: number; headers: OutgoingHttpHeaders } | undefined;
  let through = false;
  const writeHead = res.writeHead as unknown as WriteHead;
  const write = res.write;
  const end = res.end;

  const collect = (chunk: unknown, encoding?: unknown) => {
    if (chunk == null || typeof chunk === 'function' || tooLarge) return;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk)
        : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    size += buf.length;
    if (size > maxBodyBytes) {
      tooLarge = true;
      chunks.length = 0;
    } else chunks.push(buf);
  };
  const settle = (captured: Captured | undefined) => {
    if (settled) return;
    settled = true;
    hooks.onDone(captured);
  };

  // Node's `write`/`end` would send the headers themselves: an intercepted status is caught first.
  const interceptImplicit = () => {
    if (through || intercepted || head !== undefined || res.headersSent || !hooks.intercept?.(res.statusCode)) {
      return;
    }
    // `getHeaders` makes a new object each call: no copy needed.
    intercepted = { status: res.statusCode, headers: res.getHeaders() };
  };
  const finishIntercepted = () => {
    const { status, headers } = intercepted as { status: number; headers: OutgoingHttpHeaders };
    through = true;
    hooks.onIntercepted?.(status, headers);
  };

  res.writeHead = function (this: ServerResponse, statusCode: number, ...rest: unknown[]) {
    if (through) return writeHead.call(this, statusCode, ...rest);
    if (intercepted) return this;
    if (head === undefined) {
      const headers: OutgoingHttpHeaders = res.getHeaders();
      mergeGiven(
        headers,
        rest.find((arg) => typeof arg === 'object' && arg !== null),
      );
      if (hooks.intercept?.(statusCode)) {
        intercepted = { status: statusCode, headers };
        return this;
      }
      head = { status: statusCode, headers };
      hooks.onHead(statusCode, headers, ending && !tooLarge);
    }
    return writeHead.call(this, statusCode, ...rest);
  } as unknown as ServerResponse['writeHead'];
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (through) return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    interceptImplicit();
    if (intercepted) return true;
    collect(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (through) return (end as (...args: unknown[]) => ServerResponse).apply(this, args);
    interceptImplicit();
    if (intercepted) {
      finishIntercepted();
      return this;
    }
    collect(args[0], args[1]);
    ending = true;
    return (end as (...args: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];

  res.once('finish', () => {
    if (!head || tooLarge) return settle(undefined);
    const declared = head.headers['content-length'];
    // A body shorter or longer than it said is not the response the handler meant.
    if (declared !== undefined && Number(declared) !== size) return settle(undefined);
    settle({ status: head.status, headers: head.headers, body: Buffer.concat(chunks, size) });
  });
  res.once('close', () => {
    if (!res.writableFinished) settle(undefined);
  });
}

/** Adds the headers given to `writeHead` (an object, a flat `[name, value, ...]` list or pairs). */
function mergeGiven(headers: OutgoingHttpHeaders, given: unknown): void {
  if (given === undefined) return;
  if (Array.isArray(given)) {
    const pairs: unknown[][] = Array.isArray(given[0])
      ? (given as unknown[][])
      : Array.from({ length: given.length >> 1 }, (_, i) => [given[2 * i], given[2 * i + 1]]);
    for (const [name, value] of pairs) headers[String(name).toLowerCase()] = value as string;
    return;
  }
  for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
    if (value !== undefined) headers[name.toLowerCase()] = value as string;
  }
}
