import type { NextFunction, Request, Response } from 'express';

/**
 * The app's last handler, never a stack trace: a malformed request body is the client's fault
 * (400, or the body parser's own 4xx); a backend a route cannot do without (the session store:
 * sessions fail closed) is 503 with larder's code; anything else 500 with its code.
 */
export function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  const e = (err ?? {}) as { status?: unknown; type?: unknown; code?: unknown };
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const message =
      e.type === 'entity.parse.failed'
        ? 'the request body is not valid JSON'
        : e.type === 'entity.too.large'
          ? 'the request body is too large'
          : 'bad request';
    res.status(e.status).json({ error: 'E_BAD_REQUEST', message });
    return;
  }
  const code = typeof e.code === 'string' ? e.code : 'E_INTERNAL';
  if (code === 'E_BACKEND' || code === 'E_TIMEOUT') {
    storeUnavailable(res, code);
    return;
  }
  res.status(500).json({ error: code });
}

/** 503 for a route whose store is down (express-session skips a store it knows is disconnected: no `req.session`). */
export function storeUnavailable(res: Response, code = 'E_BACKEND'): void {
  res
    .status(503)
    .json({ error: code, message: 'a store this route needs is unavailable: GET /healthz says which and why' });
}
