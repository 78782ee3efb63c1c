// OS processes for the cross-process tests: each a file run with tsx (child_process.fork from the
// repo root, so tsconfig paths resolve the workspace packages from source), which says 'ready' (or
// `{ ready: data }`) over IPC once it can work, then answers each request with the request's id.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Running processes. */
export interface Processes<Ready> {
  readonly size: number;
  /** What each process said when it was ready, by index. */
  readonly ready: Ready[];
  /** Sends `message` to process `i` with a fresh `id`; resolves its reply that carries the same `id`. */
  ask<Reply>(i: number, message: object): Promise<Reply>;
  /** Stops every process (SIGTERM, by PID) and waits until each has exited. */
  stop(): Promise<void>;
}

let ids = 0;

/** Forks `file` once per entry of `envs` (added to this process's env) and waits until each is ready. */
export async function startProcesses<Ready = undefined>(
  file: string,
  envs: Record<string, string>[],
): Promise<Processes<Ready>> {
  const children: ChildProcess[] = [];
  const start = (env: Record<string, string>) =>
    new Promise<Ready>((resolve, reject) => {
      const child = fork(file, [], {
        cwd: ROOT,
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
      child.once('message', (message: unknown) => {
        if (message === 'ready') resolve(undefined as Ready);
        else if (typeof message === 'object' && message !== null && 'ready' in message)
          resolve((message as { ready: Ready }).ready);
        else reject(new Error(String(message)));
      });
    });
  const processes: Processes<Ready> = {
    size: envs.length,
    ready: [],
    ask<Reply>(i: number, message: object) {
      const id = ++ids;
      const child = children[i]!;
      return new Promise<Reply>((resolve) => {
        const onMessage = (reply: { id?: number }) => {
          if (reply?.id !== id) return;
          child.off('message', onMessage);
          resolve(reply as Reply);
        };
        child.on('message', onMessage);
        child.send({ ...message, id });
      });
    },
    stop: () => stopChildren(children),
  };
  try {
    processes.ready.push(...(await Promise.all(envs.map(start))));
  } catch (error) {
    await processes.stop();
    throw error;
  }
  return processes;
}

/** Stops `children` (SIGTERM, by PID: only the processes a test started) and waits until each has exited. */
export async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.removeAllListeners('exit');
          child.once('exit', () => resolve());
          process.kill(child.pid as number, 'SIGTERM');
        }),
    ),
  );
}
