import { webResponseCache } from '../src/index';
import { serveFetch } from './harness';
import { type Route, ruleSuite } from './rule-suite';

// The rule suite on the Web Request/Response binding with a plain Fetch-style handler.
ruleSuite({
  name: 'web',
  async serve(options, routes: Route[]) {
    const rc = webResponseCache(options);
    const handler = async (request: Request) => {
      const path = new URL(request.url).pathname;
      const route = routes.find((r) => r.method === request.method && r.path === path);
      if (!route) return new Response(null, { status: 404 });
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const answer = await route.answer({ method: request.method, headers });
      const status = answer.status ?? 200;
      return new Response(status === 304 ? null : answer.body, { status, headers: answer.headers ?? {} });
    };
    const served = await serveFetch((request) => rc(request, handler));
    return { served, settled: () => rc.settled() };
  },
});
