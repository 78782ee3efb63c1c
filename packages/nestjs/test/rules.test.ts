import { All, Controller, Req, Res } from '@nestjs/common';
import { type Route, ruleSuite } from '../../http/test/rule-suite';
import { LarderResponseCache } from '../src/index';
import { type Platform, responseCacheModule, serveNest } from './nest-app';

// @larder/http's rule suite, the same rows as on every other binding, on Nest's Express and
// Fastify platforms: LarderResponseCacheMiddleware in front of a controller serving the routes.

interface PlatformReply {
  // Express: a ServerResponse with status(); Fastify: a reply with code() and its raw ServerResponse.
  status?(code: number): unknown;
  code?(code: number): unknown;
  header(name: string, value: string): unknown;
  send(body?: string): unknown;
}

for (const platform of ['express', 'fastify'] as Platform[]) {
  ruleSuite({
    name: `nest (${platform})`,
    async serve(options, routes: Route[]) {
      @Controller()
      class RoutesController {
        // A catch-all route: path-to-regexp's named wildcard on Express, find-my-way's `*` on Fastify.
        @All(platform === 'express' ? '*path' : '*')
        async answer(
          @Req() req: { method: string; url: string; headers: Record<string, string> },
          @Res() res: PlatformReply,
        ) {
          const path = req.url.split('?')[0];
          const route = routes.find((r) => r.method === req.method && r.path === path);
          if (!route) {
            (res.status ?? res.code)?.call(res, 404);
            return res.send('no route');
          }
          const answer = await route.answer({ method: req.method, headers: req.headers });
          (res.status ?? res.code)?.call(res, answer.status ?? 200);
          for (const [name, value] of Object.entries(answer.headers ?? {})) res.header(name, value);
          return answer.status === 304 ? res.send() : res.send(answer.body);
        }
      }
      const { app, served } = await serveNest(
        responseCacheModule(RoutesController, { cache: options.cache, responseCache: options }),
        platform,
      );
      const responseCache = app.get(LarderResponseCache);
      return { served, settled: () => responseCache.settled() };
    },
  });
}
