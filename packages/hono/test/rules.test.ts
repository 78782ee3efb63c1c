import { Hono } from 'hono';
import { type Route, ruleSuite } from '../../http/test/rule-suite';
import { responseCache } from '../src/index';
import { serveHono } from './serve';

// @larder/http's rule suite, the same rows as on every other binding, on Hono (@hono/node-server).
ruleSuite({
  name: 'hono',
  async serve(options, routes: Route[]) {
    const rc = responseCache(options);
    const app = new Hono();
    app.use('*', rc);
    for (const route of routes) {
      app.on(route.method, route.path, async (c) => {
        const answer = await route.answer({ method: c.req.method, headers: c.req.header() });
        const status = answer.status ?? 200;
        const body = status === 304 ? null : answer.body;
        return new Response(body, { status, headers: answer.headers ?? {} });
      });
    }
    const served = await serveHono(app);
    return { served, settled: () => rc.settled() };
  },
});
