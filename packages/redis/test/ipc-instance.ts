// Instances of the multi-process L1 tests (coherence/, barrier/): each a forked OS process that
// answers requests over IPC. A request carries an `id`; its reply carries the same `id`, and an
// `error` that rejects the caller's promise.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cache } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A request without its `id` (the harness numbers it). */
export type Body<Request> = Request extends { id: number } ? Omit<Request, 'id'> : never;

/** One instance process. */
export interface IpcInstance<Request, Reply> {
  readonly pid: number;
  call(request: Body<Request>): Promise<Reply>;
  stop(): Promise<void>;
}

/** Forks `file` (run by tsx from the repository root) with `env` added, and resolves once it sent `'ready'`. */
export function forkIpcInstance<Request, Reply extends { id: number; error?: string }>(
  file: string,
  env: Record<string, string>,
  label: string,
): Promise<IpcInstance<Request, Reply>> {
  const child = fork(file, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, (reply: Reply) => void>();
  child.on('message', (message: unknown) => {
    const reply = message as Reply;
    if (typeof reply === 'object' && reply !== null) waiting.get(reply.id)?.(reply);
  });
  const instance: IpcInstance<Request, Reply> = {
    pid: child.pid as number,
    call(request) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        waiting.set(id, (reply) => {
          waiting.delete(id);
          if (reply.error) reject(new Error(reply.error));
          else resolve(reply);
        });
        child.send({ ...request, id });
      });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        // By PID: only the process this test started (SIGCONT first, in case a test left it stopped).
        process.kill(child.pid as number, 'SIGCONT');
        process.kill(child.pid as number, 'SIGTERM');
      }),
  };
  return new Promise((resolve, reject) => {
    const failed = (code: number | null) => reject(new Error(`${label} exited with ${code}`));
    child.once('exit', failed);
    child.once('message', (message) => {
      if (message !== 'ready') return;
      child.off('exit', failed);
      resolve(instance);
    });
  });
}

/** In the instance process: once `cache`'s L1 is up, answers each request with `handle`, then says `'ready'`. */
export async function answerRequests<Request extends { id: number }>(
  cache: Cache,
  handle: (request: Request) => Promise<object>,
): Promise<void> {
  for (;;) {
    if ((await cache.describeL1())?.state === 'up') break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  process.on('message', (message: Request) => {
    handle(message).then(
      (reply) => process.send?.({ id: message.id, ...reply }),
      (error: unknown) => process.send?.({ id: message.id, error: String((error as Error)?.message ?? error) }),
    );
  });
  process.send?.('ready');
}

/** Where an instance's store lives (the spec of the barrier and coherence instances). */
export interface InstanceStoreSpec {
  driver: 'redis' | 'memcached' | 'dynamodb';
  redis?: Record<string, unknown>;
  memcachedServers?: string[];
  dynamodb?: Record<string, unknown>;
}

/** The store of an instance process (DynamoDB Local gets a long timeout: it is slow on a loaded runner). */
export async function instanceStore(spec: InstanceStoreSpec): Promise<CacheStore> {
  if (spec.driver === 'redis') {
    const { createRedisStore } = await import('@larder/redis');
    return createRedisStore(spec.redis ?? {});
  }
  if (spec.driver === 'memcached') {
    const { createMemcachedStore } = await import('@larder/memcached');
    return createMemcachedStore({ servers: spec.memcachedServers });
  }
  const { createDynamoDbStore } = await import('@larder/dynamodb');
  return createDynamoDbStore({ ...spec.dynamodb, timeout: '20s' } as never);
}
