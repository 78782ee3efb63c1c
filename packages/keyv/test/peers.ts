import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PeerRequest } from './fixtures/cache-manager-peer';

const PEER = fileURLToPath(new URL('./fixtures/cache-manager-peer.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** An app process of fixtures/cache-manager-peer.ts, driven over IPC. */
export interface Peer {
  call(op: PeerRequest['op'], key?: string, value?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Forks one peer process (tsx, tsconfig paths from the repo root) with `env` added to this process's environment. */
export function startPeer(env: Record<string, string>): Promise<Peer> {
  const child: ChildProcess = fork(PEER, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id as number);
    if (message.error !== undefined) waiting.reject(new Error(message.error));
    else waiting.resolve(message.result);
  });
  const peer: Peer = {
    call(op, key, value) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, op, key, value } satisfies PeerRequest);
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await peer.call('close').catch(() => undefined);
      // By PID: only the process this test started.
      if (child.exitCode === null) process.kill(child.pid as number, 'SIGTERM');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`peer exited with ${code}`)));
    child.once('message', (message) => {
      if (message === 'ready') resolve(peer);
      else reject(new Error(`unexpected message ${String(message)}`));
    });
  });
}
