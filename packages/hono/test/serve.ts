import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { clientOf, closeServer, type Served } from '../../http/test/harness';

/** Serves a Hono app on `@hono/node-server`, on an ephemeral loopback port. */
export async function serveHono(app: Pick<Hono, 'fetch'>): Promise<Served> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return clientOf((server.address() as AddressInfo).port, () => closeServer(server));
}
