import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { findFreePort, waitFor } from '@larder/dev-services';
import request from 'supertest';
import { expect } from 'vitest';
import { createApp, type ExampleApp } from '../src/app';

/** An app instance listening on its own loopback port (like one node of a load-balanced tier). */
export interface Instance extends ExampleApp {
  server: Server;
  url: string;
  stop(): Promise<void>;
}

export async function startInstance(env: NodeJS.ProcessEnv, lookupDelayMs = 50): Promise<Instance> {
  const example = createApp(env, { lookupDelayMs });
  const server = example.app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    ...example,
    server,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await example.close();
    },
  };
}

/** App instances started by one test file; `stopAll()` (in afterAll, before the backends stop) stops them in order. */
export function instancePool() {
  const instances: Instance[] = [];
  return {
    /** Starts an instance on this env and keeps it for `stopAll()`. */
    async start(env: NodeJS.ProcessEnv): Promise<Instance> {
      const instance = await startInstance(env);
      instances.push(instance);
      return instance;
    },
    /** Stops every instance started so far, one after the other. */
    async stopAll(): Promise<void> {
      for (const instance of instances) await instance.stop();
    },
  };
}

/** The cache-aside, response-cache and session scenario, checked end to end over real HTTP. */
export async function scenario(a: Instance, b: Instance = a): Promise<void> {
  // Cache-aside: first read hits the database, the second the cache.
  const id = String(3 + Math.floor(Math.random() * 1e9));
  await request(a.url).put(`/customers/${id}`).send({ name: 'Cleo', email: 'cleo@example.com' }).expect(200);
  const first = await request(a.url).get(`/customers/${id}`).expect(200);
  expect(first.headers['x-source']).toBe('db');
  expect(first.body.name).toBe('Cleo');
  const second = await request(b.url).get(`/customers/${id}`).expect(200);
  // b has its own database copy; the shared cache answers.
  expect(second.headers['x-source']).toBe('cache');
  expect(second.body.name).toBe('Cleo');
  // Update invalidates: the next read sees the new record.
  await request(a.url).put(`/customers/${id}`).send({ name: 'Cleo B.' }).expect(200);
  const third = await request(a.url).get(`/customers/${id}`).expect(200);
  expect(third.headers['x-source']).toBe('db');
  expect(third.body.name).toBe('Cleo B.');

  // Response cache.
  await request(a.url).put('/customers/1').send({ name: 'Ada Lovelace' }).expect(200); // invalidates the report
  const r1 = await request(a.url).get('/reports/daily').expect(200);
  expect(r1.headers['x-cache']).toBe('MISS');
  // The cache write happens after the response is sent, so a network backend may take a moment:
  // poll until a HIT, which must replay one of the responses generated before it.
  const generated = [r1.body];
  const r2 = await waitFor(async () => {
    const r = await request(a.url).get('/reports/daily').expect(200);
    if (r.headers['x-cache'] === 'HIT') return r;
    generated.push(r.body);
    return undefined;
  });
  expect(generated).toContainEqual(r2.body);

  // Sessions: log in on a, count on b then a (the same session through the shared store).
  const login = await request(a.url).post('/login').send({ name: 'ann' }).expect(200);
  const cookie = (login.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
  await request(b.url).get('/me').set('Cookie', cookie).expect(200, { user: 'ann', visits: 1 });
  await request(a.url).get('/me').set('Cookie', cookie).expect(200, { user: 'ann', visits: 2 });
  await request(b.url).get('/me').set('Cookie', cookie).expect(200, { user: 'ann', visits: 3 });
  await request(a.url).post('/logout').set('Cookie', cookie).expect(200);
  await request(b.url).get('/me').set('Cookie', cookie).expect(401);

  const health = await request(a.url).get('/healthz').expect(200);
  expect(health.body.ok).toBe(true);
}

/** The example's server as a real process (`node --import tsx src/server.ts`) on a free port. */
export interface ServerProcess {
  url: string;
  /** Everything it printed so far. */
  output(): { stdout: string; stderr: string };
  stop(): Promise<void>;
}

/** Starts the server with only these variables (plus PATH and HOME) and waits until it listens. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: fileURLToPath(new URL('../', import.meta.url)),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await waitFor(() => stdout.includes('listening on'), {
    timeoutMs: 90_000,
    description: 'the example to print "listening on"',
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
