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
  waitFor,
} from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instance, type ServerProcess, startInstance, startServerProcess } from './helpers';

const PASSWORD = 'right-pw-88b0';
const WRONG = 'wrong-pw-17fe';

// /healthz and the console tell the truth about a broken backend: a failure (503) with its cause
// in words and what to check, and a console line naming the store; no secret anywhere. The
// example runs as a real process (its console, and the AWS SDK reading the process environment).
describe('the example on broken backends: /healthz and the console', { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let frozen: RedisServer;
  let memcached: MemcachedCluster;
  let home: string;
  const servers: ServerProcess[] = [];
  const start = async (env: Record<string, string>) => {
    const server = await startServerProcess(env);
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    [redis, frozen, memcached] = await Promise.all([
      startRedis({ password: PASSWORD }),
      startRedis(),
      startMemcached({ count: 2 }),
    ]);
    home = mkdtempSync(join(tmpdir(), 'larder-home-'));
  });
  afterAll(async () => {
    if (frozen?.pid) process.kill(frozen.pid, 'SIGCONT');
    await Promise.allSettled(servers.map((server) => server.stop()));
    await Promise.allSettled([redis?.stop(), frozen?.stop(), memcached?.stop()]);
    rmSync(home, { recursive: true, force: true });
  });

  /** /healthz: 503 with the cache's problem; the page still answers (falls back to the database). */
  async function expectProblem(server: ServerProcess, words: string | RegExp) {
    const res = await fetch(`${server.url}/healthz`);
    const body = (await res.json()) as { ok: boolean; cache: { ok: boolean; problem?: { message: string } } };
    expect(res.status).toBe(503);
    expect(body.ok).toBe(false);
    expect(body.cache.problem?.message).toMatch(words);
    const customer = await fetch(`${server.url}/customers/1`);
    expect(customer.status).toBe(200);
    expect(customer.headers.get('x-source')).toBe('db');
    return JSON.stringify(body);
  }

  it('a wrong password, a refused connection, a frozen server and no AWS credentials are failures, each in words', async () => {
    const refusedPort = await findFreePort();
    const [wrong, refused, stopped, aws] = await Promise.all([
      start({ CACHE_DRIVER: 'redis', REDIS_URL: `redis://:${WRONG}@127.0.0.1:${redis.port}` }),
      start({ CACHE_DRIVER: 'redis', REDIS_URL: `redis://127.0.0.1:${refusedPort}` }),
      start({ CACHE_DRIVER: 'redis', REDIS_URL: frozen.url }),
      start({
        CACHE_DRIVER: 'dynamodb',
        SESSION_DRIVER: 'memory',
        DYNAMODB_ENDPOINT: `http://127.0.0.1:${refusedPort}`,
        HOME: home,
        AWS_EC2_METADATA_DISABLED: 'true',
      }),
    ]);
    const texts = [
      await expectProblem(wrong, `Redis at 127.0.0.1:${redis.port} refused the user name or password (WRONGPASS)`),
      await expectProblem(refused, `nothing is listening at 127.0.0.1:${refusedPort} (connection refused)`),
      await expectProblem(aws, 'no AWS credentials were found (CredentialsProviderError): set AWS_ACCESS_KEY_ID'),
    ];
    process.kill(frozen.pid as number, 'SIGSTOP');
    try {
      const started = Date.now();
      texts.push(await expectProblem(stopped, /timed out after \d+ms|did not answer within/));
      // Bounded by the checks' 1.5 s per step, whatever the machine's load (a hang would be minutes).
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      process.kill(frozen.pid as number, 'SIGCONT');
    }
    // The console names the store and the cause, once per failure (not a line per request).
    await waitFor(() => wrong.output().stderr.includes('(WRONGPASS)'));
    const line = wrong
      .output()
      .stderr.split('\n')
      .find((l) => l.includes('WRONGPASS')) as string;
    expect(line).toMatch(
      /^larder: store 'redis', \w+: redis \w+ failed: Redis at .* \(WRONGPASS\): check the user and password in REDIS_URL \[E_BACKEND\]$/,
    );
    await waitFor(() => refused.output().stderr.includes('(connection refused)'));
    await waitFor(() => aws.output().stderr.includes("store 'dynamodb'"));
    for (const server of servers) {
      const { stdout, stderr } = server.output();
      texts.push(stdout, stderr);
      expect(stderr).not.toMatch(/^\s+at /m);
    }
    for (const text of texts) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(WRONG);
      expect(text).not.toContain('max retries');
    }
  });

  it('memcached with a node that refuses: the node is shown down, the store still serves (a warning)', async () => {
    const dead = `127.0.0.1:${await findFreePort()}`;
    const server = await start({
      CACHE_DRIVER: 'memcached',
      MEMCACHED_SERVERS: `${memcached.nodes[0]?.address},${dead}`,
    });
    const res = await fetch(`${server.url}/healthz`);
    const body = (await res.json()) as {
      cache: { ok: boolean; warnings: string[]; nodes: { address: string; status: string }[] };
    };
    expect(res.status).toBe(200);
    expect(body.cache.nodes.find((n) => n.address === dead)?.status).toMatch(/^(down|ejected)$/);
    expect(body.cache.warnings.join()).toContain(dead);
  });
});

// /healthz answers from the cache's health (`cache.health()`, on without CACHE_BREAKER): once the
// cache's calls say Redis is down, no round trip waits for a frozen server; the cache's own probe
// brings it back up after SIGCONT.
describe("/healthz on the cache's health: Redis frozen (SIGSTOP)", () => {
  let redis: RedisServer;
  let app: Instance;
  let frozen = false;
  type Body = { ok: boolean; cache: { health: { state: string }; problem?: { code: string; message: string } } };
  const healthz = async () => {
    const res = await fetch(`${app.url}/healthz`);
    return { status: res.status, body: (await res.json()) as Body };
  };

  beforeAll(async () => {
    redis = await startRedis();
    app = await startInstance({ CACHE_DRIVER: 'redis', REDIS_URL: redis.url });
  });
  afterAll(async () => {
    // By PID: the server this test started.
    if (frozen) process.kill(redis.pid as number, 'SIGCONT');
    await app?.stop();
    await redis?.stop();
  });

  it('answers 503 at once while the cache says down, with the last error in words; 200 within 1 s of SIGCONT', async () => {
    // The app connects to Redis first (its checks are bounded at 1.5 s a step, tight on a loaded machine).
    await waitFor(async () => (await healthz()).status === 200, { description: '/healthz 200 at start' });
    const pid = redis.pid as number;
    await freezeProcess(pid);
    frozen = true;
    // Three reads wait for the command timeout (the page falls back to the database): the cache says down.
    await Promise.all([2, 3, 4].map((id) => fetch(`${app.url}/customers/${id}`)));
    await waitFor(async () => (await healthz()).body.cache.health.state === 'down', {
      description: "the cache's health down",
    });
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const { status, body } = await healthz();
      // The checks would wait 1.5 s per step on a frozen server; at once is well under one such
      // wait (on a loaded 2-core machine one request took 335 ms).
      expect(performance.now() - started).toBeLessThan(1000);
      expect(status).toBe(503);
      expect(body.cache.problem).toMatchObject({ code: 'E_TIMEOUT', message: expect.stringMatching(/timed out/) });
    }
    process.kill(pid, 'SIGCONT');
    frozen = false;
    const thawed = performance.now();
    // No traffic now: the cache's probe hears Redis again.
    const up = await waitFor(
      async () => {
        const answer = await healthz();
        return answer.status === 200 ? answer : undefined;
      },
      { intervalMs: 10, description: '/healthz 200 again' },
    );
    expect(performance.now() - thawed).toBeLessThan(1000);
    expect(up.body).toMatchObject({ ok: true, cache: { health: { state: 'up' } } });
  }, 30_000);
});
