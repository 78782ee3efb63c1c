import Fastify from 'fastify';
import { clientOf, closeServer } from '../../http/test/harness';
import { type Route, ruleSuite } from '../../http/test/rule-suite';
import { responseCache } from '../src/index';

// @larder/http's rule suite, the same rows as on every other binding, on Fastify 5.
ruleSuite({
  name: 'fastify',
  async serve(options, routes: Route[]) {
    const app = Fastify();
    await app.register(responseCache, options);
    for (const route of routes) {
      app.route({
        method: route.method,
        url: route.path,
        handler: async (request, reply) => {
          const answer = await route.answer({
            method: request.method,
            headers: request.headers as Record<string, string>,
          });
          reply.code(answer.status ?? 200).headers(answer.headers ?? {});
          return answer.status === 304 ? reply.send() : reply.send(answer.body);
        },
      });
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    const served = clientOf(address.port, async () => {
      await closeServer(app.server);
      await app.close();
    });
    return { served, settled: () => app.responseCache.settled() };
  },
});
