/**
 * Response caches: the same Express 5 app (a JSON route whose handler builds ~2 KB of JSON after
 * 1 ms of simulated I/O) without a cache, with larder's `responseCache` (memory store; Redis
 * store), and with apicache 1.6 used as its README shows (`apicache.middleware('5 minutes')`,
 * `appendKey` for the varying route). Each app runs in a child process of its own (this file,
 * started with LARDER_BENCH_RC_SERVER=1 and the subject in LARDER_BENCH_RC_SUBJECT); the load
 * generator keeps 50 keep-alive connections and records each request's latency (the p99 column).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { childPort } from '../child-port';
import type { BenchCase, Scenario } from '../harness';

const CONNECTIONS = 50;
/** Each app serves every route this long before the first round (V8 has optimized its hot code then). */
const WARM_MS = 2_000;
const LANGUAGES = ['en', 'fr', 'de', 'es'];
// biome-ignore lint/suspicious/noExplicitAny: express and apicache are loaded untyped
type Loose = any;
/**
 * Floor row: the app answering each URL from a Map of prebuilt bodies (no cache rules, no key
 * hashing, no store): the least a hit can cost in this Express app, whatever the cache.
 */
const FLOOR = 'floor: a Map of prebuilt bodies by URL';
const SUBJECTS = ['no cache', 'larder (memory)', 'larder (redis)', 'apicache', FLOOR] as const;
type Subject = (typeof SUBJECTS)[number];

// ---------------------------------------------------------------------------------------------
// Server side (child process).

async function serve(): Promise<void> {
  const express = (await import('express' as string)).default as Loose;
  const subject = process.env.LARDER_BENCH_RC_SUBJECT as Subject;
  const app = express();
  app.disable('x-powered-by');
  let cached: Loose = (_req: Loose, _res: Loose, next: () => void) => next();
  let cachedVarying = cached;
  if (subject.startsWith('larder')) {
    const { Cache } = await import('@larder/core');
    const { responseCache } = await import('@larder/express');
    const store =
      subject === 'larder (redis)'
        ? (await import('@larder/redis')).createRedisStore({ url: process.env.REDIS_URL as string })
        : // Room for every URL the miss rows store (apicache keeps all; at the default 10,000 entries
          // the miss warm-up evicted the hit routes' entries and the setup's hit check failed).
          (await import('@larder/memory')).createMemoryStore({ maxEntries: 1_000_000, maxBytes: 4 * 1024 ** 3 });
    cached = responseCache({ cache: new Cache({ store, prefix: 'bench-rc:' }), ttl: '5m' });
    cachedVarying = cached;
  } else if (subject === 'apicache') {
    const apicache = (await import('apicache' as string)).default as Loose;
    cached = apicache.newInstance().middleware('5 minutes');
    // apicache keys on the URL only; its README's way to key on a request header is appendKey.
    cachedVarying = apicache
      .newInstance({ appendKey: (req: Loose) => req.headers['accept-language'] })
      .middleware('5 minutes');
  }
  const build = (id: string, lang: string) => ({
    id,
    lang,
    items: Array.from({ length: 40 }, (_, i) => ({ n: i, name: `item ${i} of ${id}`, price: i * 1.25 })),
  });
  if (subject === FLOOR) {
    const bodies = new Map<string, Buffer>();
    cached = (req: Loose, res: Loose) => {
      const lang = req.headers['accept-language'] ?? 'en';
      const url = `${req.originalUrl}\n${lang}`;
      let body = bodies.get(url);
      if (body === undefined) {
        body = Buffer.from(JSON.stringify(build(req.params.id, lang)));
        bodies.set(url, body);
      }
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('X-Cache', 'HIT');
      res.end(body);
    };
    cachedVarying = cached;
  }
  const io = () => new Promise((resolve) => setTimeout(resolve, 1));
  app.get('/item/:id', cached, async (req: Loose, res: Loose) => {
    await io();
    res.json(build(req.params.id, 'en'));
  });
  // Always revalidated once stale: a 200 fresh for 1 s with an ETag, then 304s that keep it stale
  // (`max-age=0`); Express's req.fresh answers them without building the body.
  app.get('/etag/:id', cached, async (req: Loose, res: Loose) => {
    await io();
    res.set('ETag', `"${req.params.id}-v1"`);
    if (req.fresh) return void res.set('Cache-Control', 'max-age=0').status(304).end();
    res.set('Cache-Control', 'max-age=1').json(build(req.params.id, 'en'));
  });
  app.get('/lang/:id', cachedVarying, async (req: Loose, res: Loose) => {
    await io();
    res.vary('Accept-Language').json(build(req.params.id, req.get('accept-language') ?? 'en'));
  });
  const server = app.listen(0, '127.0.0.1');
  server.keepAliveTimeout = 0;
  await new Promise((resolve) => server.once('listening', resolve));
  process.stdout.write(`PORT ${(server.address() as net.AddressInfo).port}\n`);
  process.once('SIGTERM', () => process.exit(0));
}

if (process.env.LARDER_BENCH_RC_SERVER === '1') {
  serve().catch((error: unknown) => {
    process.stderr.write(`response-cache bench server failed: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------------------------
// Load side (the bench process).

/** One keep-alive HTTP/1.1 connection; one request at a time; Content-Length or chunked bodies. */
export class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((error?: Error, head?: string) => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.check();
    });
    socket.on('error', (error) => this.waiting?.(error));
    socket.on('close', () => this.waiting?.(new Error('the app closed the connection')));
  }

  static async open(port: number): Promise<Connection> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Connection(socket);
  }

  /** Sends a GET and resolves with the response head once the whole response arrived. */
  get(path: string, headers = ''): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.waiting = (error, head) => {
        this.waiting = undefined;
        if (error) reject(error);
        else resolve(head as string);
      };
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: bench.example\r\n${headers}\r\n`);
    });
  }

  private check(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    let total: number;
    const length = /content-length: *(\d+)/i.exec(head);
    if (length) total = end + 4 + Number(length[1]);
    else {
      const last = this.buffer.indexOf('\r\n0\r\n\r\n', end);
      if (last < 0) return;
      total = last + 7;
    }
    if (this.buffer.length < total) return;
    this.buffer = this.buffer.subarray(total);
    if (!head.startsWith('HTTP/1.1 200')) this.waiting?.(new Error(`unexpected response: ${head.split('\r\n')[0]}`));
    else this.waiting?.(undefined, head);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The connections of one app, handed to in-flight requests, and the latencies of the current round. */
class Pool {
  latencies: number[] = [];
  constructor(private readonly free: Connection[]) {}
  async get(path: string, headers = ''): Promise<string> {
    const connection = this.free.pop();
    if (!connection) throw new Error('more requests in flight than connections');
    const start = performance.now();
    try {
      return await connection.get(path, headers);
    } finally {
      this.latencies.push(performance.now() - start);
      this.free.push(connection);
    }
  }
  close(): void {
    for (const c of this.free) c.close();
  }
}

interface Ctx {
  redis: RedisServer;
  children: Record<Subject, ChildProcess>;
  pools: Record<Subject, Pool>;
  /** Per case: whether the next counter read is the one after its round. */
  open: Map<BenchCase<Ctx>, boolean>;
}

/** The three requests measured: a hit, a miss (a new URL every time), a hit of one of four variants. */
export const REQUESTS: Record<string, (i: number) => [string, string]> = {
  hit: () => ['/item/1', ''],
  miss: (i) => [`/item/miss-${i}`, ''],
  'varied hit': (i) => ['/lang/1', `Accept-Language: ${LANGUAGES[i % LANGUAGES.length]}\r\n`],
  'revalidated hit': () => ['/etag/1', ''],
};
/** The subjects that revalidate (apicache keeps the 200 for its 5 minutes; the floor never asks). */
const REVALIDATING: readonly Subject[] = ['no cache', 'larder (memory)', 'larder (redis)'];

async function startApp(subject: Subject, redisUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, LARDER_BENCH_RC_SERVER: '1', LARDER_BENCH_RC_SUBJECT: subject, REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await childPort(child, `response-cache bench server (${subject})`);
  return { child, port };
}

/** Sends `request` on every connection for `ms`. */
async function warm(pool: Pool, request: (i: number) => [string, string], ms: number): Promise<void> {
  const until = Date.now() + ms;
  let i = 1_000_000;
  const worker = async () => {
    while (Date.now() < until) await pool.get(...request(i++));
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

/** Checks that a cache answers the hit routes from its cache, so the rows measure what they say. */
async function checkHits(subject: Subject, pool: Pool): Promise<void> {
  if (subject === 'no cache') return;
  for (const [path, headers] of [REQUESTS.hit?.(0), REQUESTS['varied hit']?.(1)] as [string, string][]) {
    const head = await pool.get(path, headers);
    const hit = subject === 'apicache' ? /apicache-store:/i.test(head) : /x-cache: HIT/i.test(head);
    if (!hit) throw new Error(`${subject}: ${path} (${headers.trim()}) is not a hit after warming:\n${head}`);
  }
  if (!subject.startsWith('larder')) return;
  const head = await pool.get(...(REQUESTS['revalidated hit'] as (i: number) => [string, string])(0));
  if (!/cache-status: larder; fwd=stale; fwd-status=304/i.test(head)) {
    throw new Error(`${subject}: /etag/1 is not revalidated with a 304 after warming:\n${head}`);
  }
}

async function setup(): Promise<Ctx> {
  const redis = await startRedis();
  const children = {} as Record<Subject, ChildProcess>;
  const pools = {} as Record<Subject, Pool>;
  try {
    for (const subject of SUBJECTS) {
      const { child, port } = await startApp(subject, redis.url);
      children[subject] = child;
      const connections: Connection[] = [];
      for (let i = 0; i < CONNECTIONS; i++) connections.push(await Connection.open(port));
      pools[subject] = new Pool(connections);
      for (const request of Object.values(REQUESTS)) await warm(pools[subject], request, WARM_MS);
      await checkHits(subject, pools[subject]);
    }
  } catch (error) {
    for (const child of Object.values(children)) child.kill('SIGTERM');
    await redis.stop();
    throw error;
  }
  return { redis, children, pools, open: new Map() };
}

async function teardown(ctx: Ctx): Promise<void> {
  for (const pool of Object.values(ctx.pools)) pool.close();
  for (const child of Object.values(ctx.children)) child.kill('SIGTERM');
  await ctx.redis.stop();
}

/**
 * The p99 latency of the round, in ms, through the harness's counter columns: read before a
 * round (clears the recorded latencies, 0) and after it (p99 × requests of the round). The
 * column, Σ after − before over Σ requests, is then the rounds' p99 weighted by their requests.
 */
function p99Counter(ctx: Ctx, c: BenchCase<Ctx>): number {
  const pool = ctx.pools[c.subject as Subject];
  if (!ctx.open.get(c)) {
    ctx.open.set(c, true);
    pool.latencies = [];
    return 0;
  }
  ctx.open.set(c, false);
  const sorted = [...pool.latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  return p99 * sorted.length;
}

/** CPU time (µs) the case's app process has used so far (Linux /proc; a dash elsewhere). */
function appCpu(ctx: Ctx, c: BenchCase<Ctx>): number | undefined {
  try {
    const stat = readFileSync(`/proc/${ctx.children[c.subject as Subject].pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

const cases: BenchCase<Ctx>[] = [];
for (const [op, request] of Object.entries(REQUESTS)) {
  for (const subject of SUBJECTS) {
    // The floor only answers hits: a miss row of it would measure nothing a cache does.
    if (subject === FLOOR && op === 'miss') continue;
    if (op === 'revalidated hit' && !REVALIDATING.includes(subject)) continue;
    cases.push({ op, subject, run: (ctx, i) => ctx.pools[subject].get(...request(i)) });
  }
}

export const scenario: Scenario<Ctx> = {
  name: 'response-cache',
  description:
    'Express 5, a JSON route (~2 KB, 1 ms of simulated I/O), 50 keep-alive connections: no cache vs larder responseCache ' +
    '(memory store; Redis store) vs apicache 1.6.3 (memory). Each app in a child process of its own.',
  baseline: 'no cache',
  concurrency: CONNECTIONS,
  setup,
  teardown,
  cases,
  counters: [
    { name: 'p99 ms', read: p99Counter, digits: 2 },
    { name: 'app CPU µs/request', read: appCpu, digits: 0 },
  ],
  targets: [
    { op: 'hit', subject: 'larder (memory)', over: 'apicache', atLeast: 1 },
    { op: 'revalidated hit', subject: 'larder (memory)', over: 'no cache', atLeast: 1 },
  ],
  notes: [
    'hit: GET /item/1; miss: a new URL every request (lookup, handler, store); varied hit: GET /lang/1 with one of four Accept-Language values (`Vary: Accept-Language`; apicache keys on it with `appendKey`, its README way)',
    'revalidated hit: GET /etag/1, an entry with an ETag kept stale (the 200 said max-age=1, each 304 says max-age=0): the handler runs with If-None-Match, Express answers 304 from req.fresh without building the JSON, and the stored body answers (Cache-Status fwd=stale; fwd-status=304); no cache: the same handler building the 200 every time; the issue asks its app CPU per request to be at most half of a miss',
    `every app served each request kind for ${WARM_MS / 1000} s before the first round, and the hit routes were checked to be hits`,
    'p99 ms: the 99th percentile of request latency as the load generator saw it, per round, averaged over the rounds weighted by requests',
    'app CPU µs/request: CPU time of the app process per request (steadier than ops/s on a shared machine)',
    `${FLOOR}: the same app with the cache replaced by a Map of prebuilt JSON bodies (no key hashing, no rules, no store): the least a hit costs here`,
    'larder answers every request with X-Cache and Cache-Status, and applies the RFC 9111 rules of a shared cache (see packages/express/README.md); apicache keys on the URL (+ appendKey) only',
  ],
};
