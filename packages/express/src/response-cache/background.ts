import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';

/** Marks a request this middleware made itself, to revalidate an entry in the background. */
const BACKGROUND = Symbol.for('larder.responseCache.background');

interface ExpressApp {
  handle(req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void): void;
  parent?: ExpressApp;
}

/** Whether the middleware made this request itself (a background revalidation). */
export function isBackground(req: IncomingMessage): boolean {
  return (req as unknown as Record<symbol, unknown>)[BACKGROUND] === true;
}

/**
 * RFC 5861 §3: a function that sends a copy of `req` (a GET of the same URL with the same headers,
 * but conditionals and `Range`) through the whole Express app again, its response going nowhere;
 * it resolves once that response has ended. `undefined` outside Express (no `req.app`): there is
 * then no app to send it through.
 */
export function backgroundRequest(req: IncomingMessage): (() => Promise<void>) | undefined {
  let app = (req as unknown as { app?: ExpressApp }).app;
  if (typeof app?.handle !== 'function') return undefined;
  // A sub-app sees its own path: the copy goes through the top app with the original URL.
  while (app.parent && typeof app.parent.handle === 'function') app = app.parent;
  const top = app;
  const url = (req as unknown as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
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
        top.handle(copy, res, (err?: unknown) => {
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
