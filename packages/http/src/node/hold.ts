import type { ServerResponse } from 'node:http';

type Call = () => void;

/**
 * Holds back the call that completes `res` for its client until the promise of `hold()` settles,
 * then makes it and every call the handler made meanwhile, in order.
 *
 * The completing call is the one whose bytes let the client see the whole response: `end()`; or,
 * for a body of declared length (`Content-Length`, as `res.sendFile` sets it), the `write()` that
 * reaches that length, which the client reads as the end of the response before `end()` comes;
 * or `flushHeaders()` of a response without a body (204, 304, `Content-Length: 0`). Every byte
 * before it goes out at once (a streamed body is not buffered); a chunked body ends only with
 * `end()`. `hold` is called once, at that call; `undefined` means there is nothing to wait for.
 */
export function holdCompletion(res: ServerResponse, hold: () => Promise<unknown> | undefined): void {
  const write = res.write as (...args: unknown[]) => boolean;
  const end = res.end as (...args: unknown[]) => ServerResponse;
  const flushHeaders = res.flushHeaders;
  // Body bytes still to come before the declared length is reached; `undefined`: no declared length.
  let left: number | undefined;
  let measured = false;
  // `open` until the completing call; `held` while it waits (later calls queue behind it); then
  // `done`: every call passes straight through. The wrappers are never taken off, since another
  // middleware may have wrapped them in turn since.
  let state: 'open' | 'held' | 'done' = 'open';
  const queue: Call[] = [];

  // The length is read once the headers are final: they are committed here as the first write
  // would commit them, so a Content-Length removed at that point (compression) is not counted.
  const measure = () => {
    if (measured) return;
    measured = true;
    if (!res.headersSent) res.writeHead(res.statusCode);
    left = declaredLength(res);
  };
  const complete = (call: Call) => {
    let waiting: Promise<unknown> | undefined;
    try {
      waiting = hold();
    } catch {
      waiting = undefined;
    }
    if (waiting === undefined) {
      state = 'done';
      return call();
    }
    state = 'held';
    queue.push(call);
    const release = () => {
      state = 'done';
      for (const held of queue.splice(0)) held();
    };
    waiting.then(release, release);
  };

  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    // Done, or a chunk Node refuses (it throws before committing the headers: so must this).
    if (state === 'done' || (typeof chunk !== 'string' && !(chunk instanceof Uint8Array))) {
      return write.call(this, chunk, ...rest);
    }
    const call = () => void write.call(this, chunk, ...rest);
    // A held write reports no backpressure: the declared body is whole, only `end()` may follow.
    if (state === 'held') {
      queue.push(call);
      return true;
    }
    measure();
    if (left !== undefined) {
      left -= byteLength(chunk, rest[0]);
      if (left <= 0) {
        complete(call);
        return true;
      }
    }
    return write.call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (state === 'done') return end.apply(this, args);
    const call = () => void end.apply(this, args);
    if (state === 'held') queue.push(call);
    else complete(call);
    return this;
  } as ServerResponse['end'];
  res.flushHeaders = function (this: ServerResponse) {
    if (state === 'done') return flushHeaders.call(this);
    const call = () => flushHeaders.call(this);
    if (state === 'held') return void queue.push(call);
    measure();
    if (left === 0) complete(call);
    else call();
  };
}

/** The body length the headers declare: 0 for a status without a body, `undefined` when not declared. */
function declaredLength(res: ServerResponse): number | undefined {
  const status = res.statusCode;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return 0;
  if (res.getHeader('transfer-encoding') !== undefined) return undefined;
  const value = res.getHeader('content-length');
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d+$/.test(String(text).trim()) ? Number(String(text).trim()) : undefined;
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}
