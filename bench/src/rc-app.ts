/**
 * A response-cache bench app in a child process: the child serves (`serveIfChild`), the bench
 * starts it (`startApp`) and, before each case, has it collect its garbage (`collectIn`), as the
 * harness does in its own process: so that one row's garbage (a miss row's retained entries and
 * the major collection they bring on) is not charged to the rows after it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type net from 'node:net';
import { childPort } from './child-port';

/**
 * In the app's child process (LARDER_BENCH_RC_SERVER=1), builds the subject's app with `start`
 * (it resolves with the listening server) and announces its port; elsewhere does nothing. A line
 * `gc` on its stdin collects its garbage, answered `GC` on its stdout.
 */
export function serveIfChild(start: (subject: string) => Promise<Server>): void {
  if (process.env.LARDER_BENCH_RC_SERVER !== '1') return;
  start(process.env.LARDER_BENCH_RC_SUBJECT as string).then(
    (server) => {
      server.keepAliveTimeout = 0;
      process.stdout.write(`PORT ${(server.address() as net.AddressInfo).port}\n`);
      process.once('SIGTERM', () => process.exit(0));
      process.stdin.on('data', (chunk: Buffer) => {
        if (!chunk.toString().includes('gc')) return;
        globalThis.gc?.();
        process.stdout.write('GC\n');
      });
    },
    (error: unknown) => {
      process.stderr.write(`response-cache bench server failed: ${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}

/** Starts the app of `subject` from scenario file `file` in a child process; resolves with its port. */
export async function startApp(
  file: string,
  subject: string,
  redisUrl: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
    env: { ...process.env, LARDER_BENCH_RC_SERVER: '1', LARDER_BENCH_RC_SUBJECT: subject, REDIS_URL: redisUrl },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await childPort(child, `response-cache bench server (${subject})`);
  return { child, port };
}

/** Has the app in `child` collect its garbage; resolves once it did. */
export function collectIn(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const done = (chunk: Buffer) => {
      if (!chunk.toString().includes('GC')) return;
      child.stdout?.off('data', done);
      resolve();
    };
    child.stdout?.on('data', done);
    child.stdin?.write('gc\n');
  });
}
