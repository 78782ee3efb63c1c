import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';

/** Marks a request this middleware made itself, to revalidate an entry in the background. */
const BACKGROUND = Symbol.for('larder.responseCache.background');

/** Whether the middleware made this request itself (a background revalidation). */
export function isBackground(req: IncomingMessage): boolean {
  return (req as unknown as Record<symbol, unknown>)[BACKGROUND] === true;
}

/** Sends a request through an app: `done` is called when nothing answered it (or with an error nobody handled). */
export type Dispatch = (req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void) => void;

/**
 * RFC 5861 §3: a function that sends a copy of `req` (a GET of `url` with the same headers, but
 * conditionals and `Range`) through the app by `dispatch`, its response going nowhere (a socket
 * that drops its bytes); it resolves once that response has ended. The copy is marked
 * (`isBackground`), so the cache revalidates it instead of serving it stale again.
 */
export function backgroundRequest(req: IncomingMessage, url: string, dispatch: Dispatch): () => Promise<void> {
  const headers = { ...req.headers };
  for (const name of ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']) {
    delete headers[name];
  }
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const remoteAddress = req.socket?.remoteAddress;
  return () =>
    new Promise<void>((resolve) => {
      // A socket that takes every byte and drops it: the response is written, finishes, and goes nowhere.
      const socket = new Duplex({
        read() {},
        write(_chunk, _encoding, callback) {
          callback();
        },
      });
      Object.assign(socket, { encrypted, remoteAddress });
      const copy = new IncomingMessage(socket as never);
      Object.assign(copy, { method: 'GET', url, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1 });
      copy.headers = headers;
      copy.rawHeaders = Object.entries(headers).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [String(value)]).flatMap((one) => [name, one]),
      );
      (copy as unknown as Record<symbol, unknown>)[BACKGROUND] = true;
      copy.push(null);
      const res = new ServerResponse(copy);
      res.assignSocket(socket as never);
      const done = () => {
        res.detachSocket(socket as never);
        socket.destroy();
        // After the capture's own `finish` listener (which starts the store's write).
        setImmediate(resolve);
      };
      res.once('finish', done);
      res.once('close', () => {
        if (!res.writableFinished) done();
      });
      try {
        dispatch(copy, res, (err?: unknown) => {
          // Nothing answered it (or an error with no handler): it must still end, or its flight waits forever.
          if (!res.writableEnded) {
            res.statusCode = err === undefined ? 404 : 500;
            res.end();
          }
        });
      } catch {
        if (!res.writableEnded) res.destroy();
      }
    });
}
