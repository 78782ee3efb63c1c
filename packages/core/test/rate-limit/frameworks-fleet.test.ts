import { rateLimitFleet } from './framework-fleet';

// Issue #42: each framework's rate limiter on larder's store, in 8 app processes on Redis,
// memcached and DynamoDB Local, and Redis frozen under them. A framework joins with its app's
// factory module (a RateLimitAppFactory exporting `createApp`).
const fixture = (path: string) => new URL(`../../../${path}`, import.meta.url);

rateLimitFleet([
  { framework: '@fastify/rate-limit', module: fixture('fastify/test/fixtures/rate-limit-app.ts') },
  { framework: 'hono-rate-limiter', module: fixture('hono/test/fixtures/rate-limit-app.ts') },
  { framework: 'express-rate-limit', module: fixture('express/test/fixtures/rate-limit-app.ts') },
  { framework: '@nestjs/throttler', module: fixture('nestjs/test/fixtures/rate-limit-app.ts') },
]);
