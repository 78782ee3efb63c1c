import express from 'express';
import { serve } from '../../http/test/harness';
import { type Route, ruleSuite } from '../../http/test/rule-suite';
import { responseCache } from '../src/index';

// @larder/http's rule suite, the same rows as on every other binding, on Express 5.
ruleSuite({
  name: 'express',
  async serve(options, routes: Route[]) {
    const rc = responseCache(options);
    const app = express();
    app.set('etag', false);
    for (const route of routes) {
      const method = route.method === 'GET' ? 'get' : 'put';
      app[method](route.path, rc, async (req, res) => {
        const answer = await route.answer({ method: req.method, headers: req.headers as Record<string, string> });
        res.status(answer.status ?? 200).set(answer.headers ?? {});
        if (answer.status === 304) return void res.end();
        res.send(answer.body);
      });
    }
    const served = await serve(app);
    return { served, settled: () => rc.settled() };
  },
});
