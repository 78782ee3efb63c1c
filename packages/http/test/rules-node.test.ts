import { nodeResponseCache } from '../src/index';
import { serve } from './harness';
import { type Route, ruleSuite } from './rule-suite';

// The rule suite on the `node:http` binding with a plain server (no framework).
ruleSuite({
  name: 'node:http',
  async serve(options, routes: Route[]) {
    const rc = nodeResponseCache(options);
    const served = await serve((req, res) => {
      rc(req, res, async (err) => {
        const route = routes.find((r) => r.method === req.method && r.path === req.url?.split('?')[0]);
        if (err || !route) {
          res.statusCode = err ? 500 : 404;
          return void res.end();
        }
        const answer = await route.answer({
          method: req.method ?? 'GET',
          headers: req.headers as Record<string, string>,
        });
        res.writeHead(answer.status ?? 200, answer.headers ?? {});
        res.end(answer.body);
      });
    });
    return { served, settled: () => rc.settled() };
  },
});
