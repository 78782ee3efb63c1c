import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findFreePort,
  freezeProcess,
  type MemcachedCluster,
  type RedisServer,
  startMemcached,
  startRedis,
} from '@larder/dev-services';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import schema from '../doctor-report.schema.json' with { type: 'json' };
import type { DoctorReport } from '../src/commands/doctor';
import { ROOT, runProcess } from './helpers';

const PASSWORD = 'right-pw-5d1e';
const WRONG = 'wrong-pw-a93c';
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

/** The real `larder` process (from source, as `pnpm larder` runs it), with only these variables. */
async function larder(args: string[], env: Record<string, string>) {
  const result = await runProcess(process.execPath, ['--import', 'tsx', 'packages/cli/src/bin.ts', ...args], {
    cwd: ROOT,
    env,
  });
  // Whatever failed, no secret is printed.
  for (const secret of [PASSWORD, WRONG, 'AKIA-doctor-secret'])
    expect(result.stdout + result.stderr).not.toContain(secret);
  return result;
}

function json(stdout: string): DoctorReport {
  const report = JSON.parse(stdout) as DoctorReport;
  expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  return report;
}

// Health tells the truth: each failure is a failure (exit 1, never "connect ok"), with its cause in
// words and what to check, as text and as JSON.
// Each test starts the CLI (tsx) a few times: seconds each, many more on a loaded machine.
describe('larder doctor on broken backends (the real process)', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let frozen: RedisServer;
  let memcached: MemcachedCluster;
  let home: string;
  beforeAll(async () => {
    [redis, frozen, memcached] = await Promise.all([
      startRedis({ password: PASSWORD }),
      startRedis(),
      startMemcached({ count: 1 }),
    ]);
    home = mkdtempSync(join(tmpdir(), 'larder-home-'));
  });
  afterAll(async () => {
    if (frozen?.pid) process.kill(frozen.pid, 'SIGCONT');
    await Promise.allSettled([redis?.stop(), frozen?.stop(), memcached?.stop()]);
    rmSync(home, { recursive: true, force: true });
  });

  it('a wrong Redis password: WRONGPASS, what to check, no password shown', async () => {
    const url = `redis://:${WRONG}@127.0.0.1:${redis.port}`;
    const env = { CACHE_DRIVER: 'redis', REDIS_URL: url };
    const [{ code, stdout }, asJson] = await Promise.all([
      larder(['doctor', '--timeout', '2000'], env),
      larder(['doctor', '--json'], env),
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `connect   FAILED: redis get failed: Redis at 127.0.0.1:${redis.port} refused the user name or password (WRONGPASS): check the user and password in REDIS_URL`,
    );
    expect(stdout).not.toMatch(/ok \(/);
    expect(stdout).not.toContain('max retries');
    const report = json(asJson.stdout);
    expect(report).toMatchObject({ ok: false, failed: 1 });
    expect(report.stores[0]?.problem).toMatchObject({ step: 'connect', code: 'E_BACKEND' });
    expect(report.stores[0]?.problem?.message).toContain('(WRONGPASS)');
  });

  it('a refused connection: nothing is listening, check the host and port', async () => {
    const port = await findFreePort();
    const { code, stdout } = await larder(['doctor'], {
      CACHE_DRIVER: 'redis',
      REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}`,
    });
    expect(code).toBe(1);
    expect(stdout).toContain(
      `connect   FAILED: redis get failed: nothing is listening at 127.0.0.1:${port} (connection refused): is Redis running there? Check the host and port in REDIS_URL`,
    );
  });

  it('a frozen server (SIGSTOP): did not answer in time, within the timeout', async () => {
    await freezeProcess(frozen.pid as number);
    try {
      const { code, stdout } = await larder(['doctor', '--timeout', '1500'], {
        CACHE_DRIVER: 'redis',
        REDIS_URL: frozen.url,
      });
      expect(code).toBe(1);
      expect(stdout).toMatch(
        /connect {3}FAILED: redis (connect did not answer within 1500ms|get timed out after \d+ms): is the server frozen/,
      );
    } finally {
      process.kill(frozen.pid as number, 'SIGCONT');
    }
  });

  it('no AWS credentials (DynamoDB): says so and where to set them', async () => {
    const env = {
      CACHE_DRIVER: 'dynamodb',
      DYNAMODB_ENDPOINT: `http://127.0.0.1:${await findFreePort()}`,
      AWS_REGION: 'eu-west-1',
      // No credentials anywhere in the default chain: no variables, no ~/.aws, no instance metadata.
      HOME: home,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const { code, stdout } = await larder(['doctor', '--timeout', '3000'], env);
    expect(code).toBe(1);
    expect(stdout).toContain(
      "connect   FAILED: dynamodb get on table 'CacheTable' failed: no AWS credentials were found (CredentialsProviderError): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role",
    );
    // With credentials but nothing at the endpoint: the endpoint is named.
    const refused = await larder(['doctor', '--timeout', '3000'], {
      ...env,
      AWS_ACCESS_KEY_ID: 'AKIA-doctor-key',
      AWS_SECRET_ACCESS_KEY: 'AKIA-doctor-secret',
    });
    expect(refused.stdout).toContain(`nothing is listening at ${env.DYNAMODB_ENDPOINT} (connection refused)`);
  });

  it('a memcached node that refuses is shown down (a warning while another node serves)', async () => {
    const dead = `127.0.0.1:${await findFreePort()}`;
    const env = { CACHE_DRIVER: 'memcached', MEMCACHED_SERVERS: `${memcached.nodes[0]?.address},${dead}` };
    const { stdout } = await larder(['doctor', '--json', '--timeout', '2000'], env);
    const store = json(stdout).stores[0];
    expect(store?.description?.topology.nodes.find((n) => n.address === dead)?.status).toMatch(/^(down|ejected)$/);
    expect(store?.description?.topology.nodes.find((n) => n.address === memcached.nodes[0]?.address)?.status).toBe(
      'up',
    );
    expect(store?.warnings.join()).toContain(dead);
    // The only node refusing: a failure, though the ring still holds it.
    const alone = await larder(['doctor', '--timeout', '2000'], { CACHE_DRIVER: 'memcached', MEMCACHED_SERVERS: dead });
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain(`nothing is listening at ${dead} (connection refused): is memcached running there?`);
  });

  it('waits for the L1 tracking to be armed before reporting it', async () => {
    const { code, stdout } = await larder(['doctor', '--json'], {
      CACHE_DRIVER: 'redis',
      REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${redis.port}`,
      CACHE_L1: 'on',
    });
    const store = json(stdout).stores[0];
    expect(store?.description?.l1).toMatchObject({ state: 'up', invalidation: 'tracking' });
    expect(store?.steps.l1?.ok).toBe(true);
    expect(code).toBe(0);
  });
});
