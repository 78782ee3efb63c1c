import type { ServerResponse } from 'node:http';
import {
  backgroundRequest,
  isBackground,
  nodeResponseCache,
  type ResponseCacheMiddleware,
  type ResponseCacheOptions,
} from '@larder/http';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The response cache registered in this context: `invalidate(url)`, `settled()`, `stats()`. */
    responseCache: Pick<ResponseCacheMiddleware, 'invalidate' | 'settled' | 'stats'>;
  }
}

/** Options of the Fastify `responseCache` (its `tags` function sees the raw `ServerResponse`). */
export type FastifyResponseCacheOptions = ResponseCacheOptions<ServerResponse>;

const plugin: FastifyPluginCallback<FastifyResponseCacheOptions> = (app, options, done) => {
  const replies = new WeakMap<ServerResponse, FastifyReply>();
  let rc: ResponseCacheMiddleware;
  try {
    rc = nodeResponseCache(options, {
      // RFC 5861 §3: a copy of the request through the app's router in the background.
      refresher: (req) =>
        isBackground(req) ? undefined : backgroundRequest(req, req.url ?? '/', (copy, res) => app.routing(copy, res)),
      // The cache answered on the raw response: Fastify must not send one of its own.
      onAnswer: (_req, res) => replies.get(res)?.hijack(),
    });
  } catch (error) {
    return done(error as Error);
  }
  app.decorate('responseCache', { invalidate: rc.invalidate, settled: rc.settled, stats: rc.stats });
  app.addHook('onRequest', (request, reply, next) => {
    replies.set(reply.raw, reply);
    rc(request.raw, reply.raw, (error) => next(error as Error | undefined));
  });
  done();
};

/**
 * The response cache as Fastify hooks, for the routes of the context it is registered in (same
 * options and rules as `@larder/express`'s `responseCache`: `@larder/http`'s `node:http` binding on
 * the raw request and response). A stale entry under `stale-while-revalidate` answers at once
 * while a copy of the request goes through the app's router in the background.
 */
export const responseCache = fp(plugin, { fastify: '5.x', name: '@larder/fastify/response-cache' });
