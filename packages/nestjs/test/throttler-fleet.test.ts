import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type DynamoDbLocal,
  type MemcachedCluster,
  type RedisServer,
  startDynamoDbLocal,
  startMemcached,
  startRedis,
} from '@larder/dev-services';
import { createTables } from '@larder/dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerSpec } from '../../core/test/rate-limit/fleet';
import { clientOf } from '../../http/test/harness';
import { FLEET_LIMIT } from './fleet/worker';

// The rate-limit fleet through @nestjs/throttler: 8 app instances (OS processes, each a Nest app
// per backend with ThrottlerGuard on LarderThrottlerStorage) × 25 concurrent HTTP callers on one
// key (every request comes from 127.0.0.1), limit 100, on Redis, memcached and DynamoDB Local:
// exactly the limit admitted. (A Redis storage of the throttler let ~400 of 1,000 through a limit
// of 5: nestjs/throttler#1303.)

const INSTANCES = 8;
const CALLERS = 25;
const WORKER = fileURLToPath(new URL('./fleet/worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let redis: RedisServer;
let memcached: MemcachedCluster;
let dynamodb: DynamoDbLocal;
const children: ChildProcess[] = [];
/** The ports of each instance, one per backend (in BACKENDS' order). */
const ports: number[][] = [];
const BACKENDS = ['redis', 'memcached', 'dynamodb'] as const;

/** Forks one instance serving an app per spec; resolves its ports. */
function startInstance(specs: WorkerSpec[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, LARDER_NEST_FLEET: JSON.stringify(specs), NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
    child.once('message', (message: { ports?: number[]; error?: string }) =>
      message.ports ? resolve(message.ports) : reject(new Error(message.error)),
    );
  });
}

beforeAll(async () => {
  [redis, memcached, dynamodb] = await Promise.all([startRedis(), startMemcached(), startDynamoDbLocal()]);
  const { endpoint, region, credentials } = dynamodb;
  await createTables({ endpoint, region, credentials, tables: [{ name: 'CacheTable' }], pollIntervalMs: 50 });
  const specs: WorkerSpec[] = [
    { driver: 'redis', prefix: 'nest-fleet:', redisUrl: redis.url },
    { driver: 'memcached', prefix: 'nest-fleet:', memcachedServers: memcached.nodes.map((node) => node.address) },
    { driver: 'dynamodb', prefix: 'nest-fleet:', dynamodb: { endpoint, region, credentials } },
  ];
  for (let i = 0; i < INSTANCES; i++) ports.push(await startInstance(specs));
}, 240_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.removeAllListeners('exit');
          child.once('exit', () => resolve());
          // By PID: only the processes this test started.
          process.kill(child.pid as number, 'SIGTERM');
        }),
    ),
  );
  await Promise.all([redis?.stop(), memcached?.stop(), dynamodb?.stop()]);
}, 60_000);

describe('@nestjs/throttler on LarderThrottlerStorage across 8 processes', () => {
  it.each(BACKENDS.map((name, index) => ({ name, index })))(
    '$name: 8 × 25 concurrent requests, limit 100 → exactly 100 admitted, the rest 429',
    async ({ index }) => {
      const clients = ports.map((own) => clientOf(own[index]!, async () => {}));
      const replies = await Promise.all(
        clients.flatMap((client) => Array.from({ length: CALLERS }, () => client.get('/'))),
      );
      const statuses = replies.map((reply) => reply.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(FLEET_LIMIT);
      expect(statuses.filter((status) => status === 429)).toHaveLength(INSTANCES * CALLERS - FLEET_LIMIT);
    },
    60_000,
  );
});
