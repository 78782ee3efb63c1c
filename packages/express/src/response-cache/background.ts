import type { IncomingMessage } from 'node:http';
import { backgroundRequest, type Dispatch, isBackground } from '@larder/http';

interface ExpressApp {
  handle: Dispatch;
  parent?: ExpressApp;
}

/**
 * RFC 5861 §3 on Express: a function that sends a copy of `req` through the whole Express app
 * again (the top app, with the original URL: a sub-app sees its own path), its response going
 * nowhere. `undefined` for such a copy itself, and outside Express (no `req.app`): there is then
 * no app to send it through, and the request revalidates itself.
 */
export function expressRefresher(req: IncomingMessage): (() => Promise<void>) | undefined {
  if (isBackground(req)) return undefined;
  let app = (req as unknown as { app?: ExpressApp }).app;
  if (typeof app?.handle !== 'function') return undefined;
  while (app.parent && typeof app.parent.handle === 'function') app = app.parent;
  const top = app;
  const url = (req as unknown as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  return backgroundRequest(req, url, (copy, res, done) => top.handle(copy, res, done));
}
