import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Two app instances: their base URLs, and how to stop them. */
export interface Instances {
  urls: [string, string];
  stop(): Promise<void>;
}

/**
 * Forks two processes of the fixture `app` (tsx, tsconfig paths from the repo root) with `env`
 * added; each answers 'ready <port>' over IPC once it listens on loopback.
 */
export async function forkApps(app: string, env: Record<string, string>): Promise<Instances> {
  const children: ChildProcess[] = [];
  const start = () =>
    new Promise<string>((resolve, reject) => {
      const child = fork(app, [], {
        cwd: ROOT,
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, ...env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      child.once('exit', (code) => reject(new Error(`app instance exited with ${code}`)));
      child.once('message', (message) => {
        const port = /^ready (\d+)$/.exec(String(message))?.[1];
        if (port) resolve(`http://127.0.0.1:${port}`);
        else reject(new Error(`unexpected message ${String(message)}`));
      });
    });
  const urls = (await Promise.all([start(), start()])) as [string, string];
  return {
    urls,
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.removeAllListeners('exit');
              child.once('exit', () => resolve());
              // By PID: only the process this test started.
              process.kill(child.pid as number, 'SIGTERM');
            }),
        ),
      );
    },
  };
}
