import { type ChildProcess, fork } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopChildren } from '../../core/test/rate-limit/processes';

// hono/cache on Node across two OS processes (test/fixtures/cache-app.ts, forked with tsx), each a
// Hono app whose `caches` is cacheStorage on one real redis-server with an L1 of its own: the
// second process answers from the entry the first stored, and a tag purge from either reaches both.
const APP = fileURLToPath(new URL('./fixtures/cache-app.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let server: RedisServer;
const children: ChildProcess[] = [];

/** Forks one app process on `server` and resolves with its base URL and PID once it listens. */
function start(prefix: string): Promise<{ url: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(APP, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, LARDER_TEST_REDIS: server.url, LARDER_TEST_PREFIX: prefix },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}`)));
    child.once('message', (message) => {
      const port = /^ready (\d+)$/.exec(String(message))?.[1];
      if (port) resolve({ url: `http://127.0.0.1:${port}`, pid: child.pid as number });
      else reject(new Error(`unexpected message ${String(message)}`));
    });
  });
}

/**
 * The body of `url`'s answer, asked with `Host: news.example` for both processes, as behind a load
 * balancer: hono/cache keys by the request's URL, which @hono/node-server builds from the Host
 * header (fetch sends its own Host, so node:http).
 */
function text(url: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { host: 'news.example' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
/** How many times `url`'s handler ran, and its L1's state and hits. */
const stats = async (url: string) =>
  JSON.parse(await text(`${url}/runs`)) as { runs: number; l1: { state?: string; lease?: boolean; hits?: number } };
const runs = async (url: string) => (await stats(url)).runs;

describe('hono/cache on cacheStorage across two processes (redis-server)', () => {
  beforeAll(async () => {
    server = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await stopChildren(children);
    await server?.stop();
  });

  it("the second process answers from the first's entry; a tag purge from either reaches both", async () => {
    const prefix = `cs-proc-${process.pid}:`;
    const [a, b] = await Promise.all([start(prefix), start(prefix)]);
    // Each L1 answers once its tracking is up and its lease held.
    for (const { url } of [a, b]) {
      await waitFor(async () => (await stats(url)).l1.lease === true, { timeoutMs: 20_000 });
    }
    const first = `news from ${a.pid}, run 1`;
    expect(await text(`${a.url}/news`)).toBe(first);
    // B's handler never runs: its answer is A's stored response, then from its own L1.
    expect(await text(`${b.url}/news`)).toBe(first);
    expect(await text(`${b.url}/news`)).toBe(first);
    expect(await text(`${a.url}/news`)).toBe(first);
    expect([await runs(a.url), await runs(b.url)]).toEqual([1, 0]);
    expect((await stats(b.url)).l1).toMatchObject({ state: 'up', hits: expect.any(Number) });
    expect((await stats(b.url)).l1.hits).toBeGreaterThan(0);

    // Purged from B: A runs its handler again, and B then answers A's new entry (its L1 copy dropped).
    expect(await text(`${b.url}/purge?tag=news`, 'POST')).toBe('purged');
    const second = `news from ${a.pid}, run 2`;
    expect(await text(`${a.url}/news`)).toBe(second);
    expect(await text(`${b.url}/news`)).toBe(second);

    // Purged from A: B runs its own handler, and A answers B's entry.
    expect(await text(`${a.url}/purge?tag=news`, 'POST')).toBe('purged');
    const third = `news from ${b.pid}, run 1`;
    expect(await text(`${b.url}/news`)).toBe(third);
    expect(await text(`${a.url}/news`)).toBe(third);
    expect([await runs(a.url), await runs(b.url)]).toEqual([2, 1]);
  }, 60_000);
});
