/**
 * What the response-cache scenarios share (Express, Fastify, Hono): the load side (keep-alive
 * connections, the requests, warming, the p99 and app-CPU columns, one app per subject in a child
 * process) and the app side's common parts (the JSON body, the simulated I/O, the floor's Map,
 * announcing the port). Each scenario file is also its own app: started with
 * LARDER_BENCH_RC_SERVER=1 and the subject in LARDER_BENCH_RC_SUBJECT, it serves instead.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { CacheStore } from '@larder/core/driver';
import { type RedisServer, startRedis } from '@larder/dev-services';
import type { BenchCase, Scenario } from './harness';
import { collectIn, startApp } from './rc-app';

const CONNECTIONS = 50;
/** Each app serves every route this long before the first round (V8 has optimized its hot code then). */
export const WARM_MS = 2_000;
const LANGUAGES = ['en', 'fr', 'de', 'es'];
/**
 * Floor row: the app answering each URL from a Map of prebuilt bodies (no cache rules, no key
 * hashing, no store): the least a hit can cost in that framework's app, whatever the cache.
 */
export const FLOOR = 'floor: a Map of prebuilt bodies by URL';

// ---------------------------------------------------------------------------------------------
// App side (child process).

/** The JSON every route answers (~2 KB). */
export const buildBody = (id: string, lang: string) => ({
  id,
  lang,
  items: Array.from({ length: 40 }, (_, i) => ({ n: i, name: `item ${i} of ${id}`, price: i * 1.25 })),
});

/** The handler's simulated I/O (1 ms). */
export const io = () => new Promise((resolve) => setTimeout(resolve, 1));

/** The floor's bodies: built once per URL and language, then served as they are. */
export function floorBodies(): (url: string, id: string, lang: string) => Buffer {
  const bodies = new Map<string, Buffer>();
  return (url, id, lang) => {
    const key = `${url}\n${lang}`;
    let body = bodies.get(key);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(buildBody(id, lang)));
      bodies.set(key, body);
    }
    return body;
  };
}

/** The store of a larder subject: a redis-server's for `… (redis)`, else a memory store. */
export async function benchStore(subject: string): Promise<CacheStore> {
  if (subject.endsWith('(redis)')) {
    return (await import('@larder/redis')).createRedisStore({ url: process.env.REDIS_URL as string });
  }
  // Room for every URL the miss rows store (apicache keeps all; at the default 10,000 entries
  // the miss warm-up evicted the hit routes' entries and the setup's hit check failed).
  return (await import('@larder/memory')).createMemoryStore({ maxEntries: 1_000_000, maxBytes: 4 * 1024 ** 3 });
}

// ---------------------------------------------------------------------------------------------
// Load side (the bench process).

/** One keep-alive HTTP/1.1 connection; one request at a time; Content-Length or chunked bodies. */
export class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((error?: Error, head?: string, body?: Buffer) => void) | undefined;

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
    return this.send(path, headers, (head) => head);
  }

  /** Sends a GET and resolves with the response head and body (a chunked body as sent, framing included). */
  request(path: string, headers = ''): Promise<[string, Buffer]> {
    return this.send(path, headers, (head, body): [string, Buffer] => [head, body]);
  }

  private send<T>(path: string, headers: string, answer: (head: string, body: Buffer) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting = (error, head, body) => {
        this.waiting = undefined;
        if (error) reject(error);
        else resolve(answer(head as string, body as Buffer));
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
    // A 304 has no body, whatever length it states (RFC 9110 §15.4.5; apicache's states the 200's).
    if (head.startsWith('HTTP/1.1 304')) total = end + 4;
    else if (length) total = end + 4 + Number(length[1]);
    else {
      const last = this.buffer.indexOf('\r\n0\r\n\r\n', end);
      if (last < 0) return;
      total = last + 7;
    }
    if (this.buffer.length < total) return;
    const body = this.buffer.subarray(end + 4, total);
    this.buffer = this.buffer.subarray(total);
    if (!/^HTTP\/1\.1 (200|304)/.test(head)) this.waiting?.(new Error(`unexpected response: ${head.split('\r\n')[0]}`));
    else this.waiting?.(undefined, head, body);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A response head the cache answered: larder's `X-Cache: HIT`, apicache's `apicache-store` header. */
const ANSWERED = /\r\n(x-cache: hit|apicache-store:)/i;

/** The connections of one app, handed to in-flight requests, and the latencies of the current round. */
export class Pool {
  latencies: number[] = [];
  /** Responses the cache answered (larder's `X-Cache: HIT`, apicache's `apicache-store` header). */
  answered = 0;
  constructor(private readonly free: Connection[]) {}
  async get(path: string, headers = ''): Promise<string> {
    const connection = this.free.pop();
    if (!connection) throw new Error('more requests in flight than connections');
    const start = performance.now();
    try {
      const head = await connection.get(path, headers);
      if (ANSWERED.test(head)) this.answered++;
      return head;
    } finally {
      this.latencies.push(performance.now() - start);
      this.free.push(connection);
    }
  }
  /** One request outside the measured rounds (no latency recorded): head and body. */
  async request(path: string, headers = ''): Promise<[string, Buffer]> {
    const connection = this.free.pop();
    if (!connection) throw new Error('more requests in flight than connections');
    try {
      return await connection.request(path, headers);
    } finally {
      this.free.push(connection);
    }
  }
  close(): void {
    for (const c of this.free) c.close();
  }
}

export interface RcCtx<S extends string> {
  redis: RedisServer;
  children: Record<S, ChildProcess>;
  pools: Record<S, Pool>;
  /** Per case: whether the next counter read is the one after its round. */
  open: Map<BenchCase<RcCtx<S>>, boolean>;
}

export type Request = (i: number) => [string, string];

/** The requests measured: a hit, hits spread over 4,000 URLs, a miss (a new URL every time), a hit of one of four variants, a revalidated hit. */
export const REQUESTS: Record<string, Request> = {
  hit: () => ['/item/1', ''],
  // More URLs than the per-process memos keep (1,024 decoded heads, base keys and bodies): what a hit costs without them.
  'hit, 4,000 URLs': (i) => [`/item/${i % 4_000}`, ''],
  miss: (i) => [`/item/miss-${i}`, ''],
  'varied hit': (i) => ['/lang/1', `Accept-Language: ${LANGUAGES[i % LANGUAGES.length]}\r\n`],
  'revalidated hit': () => ['/etag/1', ''],
  // The client's own conditional request: with no cache, the handler's 304 (the least a revalidation costs the app).
  'conditional request': () => ['/etag/1', 'If-None-Match: "1-v1"\r\n'],
};

/** Sends `request` on every connection for `ms`. */
async function warm(pool: Pool, request: Request, ms: number): Promise<void> {
  const until = Date.now() + ms;
  let i = 1_000_000;
  const worker = async () => {
    while (Date.now() < until) await pool.get(...request(i++));
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

/**
 * Starts a redis-server and each subject's app (scenario file `file`), opens its connections,
 * warms every request kind for WARM_MS and runs `check` (that the cached routes are hits).
 */
async function setupApps<S extends string>(
  file: string,
  subjects: readonly S[],
  check: (subject: S, pool: Pool) => Promise<void>,
): Promise<RcCtx<S>> {
  const redis = await startRedis();
  const children = {} as Record<S, ChildProcess>;
  const pools = {} as Record<S, Pool>;
  try {
    for (const subject of subjects) {
      const { child, port } = await startApp(file, subject, redis.url);
      children[subject] = child;
      const connections: Connection[] = [];
      for (let i = 0; i < CONNECTIONS; i++) connections.push(await Connection.open(port));
      pools[subject] = new Pool(connections);
      for (const request of Object.values(REQUESTS)) await warm(pools[subject], request, WARM_MS);
      await check(subject, pools[subject]);
    }
  } catch (error) {
    for (const child of Object.values<ChildProcess>(children)) child.kill('SIGTERM');
    await redis.stop();
    throw error;
  }
  return { redis, children, pools, open: new Map() };
}

async function teardownApps<S extends string>(ctx: RcCtx<S>): Promise<void> {
  for (const pool of Object.values<Pool>(ctx.pools)) pool.close();
  for (const child of Object.values<ChildProcess>(ctx.children)) child.kill('SIGTERM');
  await ctx.redis.stop();
}

/**
 * Checks that the app answers each of `ops` (names in REQUESTS) from its cache: the count of
 * handler runs its uncached `GET /runs` answers does not move over the request.
 */
export async function checkHitsByRuns(subject: string, pool: Pool, ops: readonly string[]): Promise<void> {
  const runs = async () => (await pool.request('/runs'))[1].toString('latin1');
  for (const op of ops) {
    const [path, headers] = (REQUESTS[op] as Request)(1);
    const before = await runs();
    const [head] = await pool.request(path, headers);
    if ((await runs()) !== before) {
      throw new Error(`${subject}: ${path} (${headers.trim()}) ran its handler after warming, no hit:\n${head}`);
    }
  }
}

/**
 * The Fastify and Hono scenarios' check: `hitOps` are hits (`checkHitsByRuns`) and a larder subject
 * revalidates (`checkRevalidated`); nothing to check for `no cache`.
 */
export async function checkCached(subject: string, pool: Pool, hitOps: readonly string[]): Promise<void> {
  if (subject === 'no cache') return;
  await checkHitsByRuns(subject, pool, hitOps);
  if (subject.startsWith('larder')) await checkRevalidated(subject, pool);
}

/** Checks that larder revalidates the stale `/etag/1` entry with a 304 (the revalidated-hit row measures that). */
export async function checkRevalidated(subject: string, pool: Pool): Promise<void> {
  const head = await pool.get(...(REQUESTS['revalidated hit'] as Request)(0));
  if (!/cache-status: larder; fwd=stale; fwd-status=304/i.test(head)) {
    throw new Error(`${subject}: /etag/1 is not revalidated with a 304 after warming:\n${head}`);
  }
}

/** One case per request kind and subject, but those `skip` names. */
function requestCases<S extends string>(
  subjects: readonly S[],
  skip: (op: string, subject: S) => boolean,
): BenchCase<RcCtx<S>>[] {
  const cases: BenchCase<RcCtx<S>>[] = [];
  for (const [op, request] of Object.entries(REQUESTS)) {
    for (const subject of subjects) {
      if (!skip(op, subject)) cases.push({ op, subject, run: (ctx, i) => ctx.pools[subject].get(...request(i)) });
    }
  }
  return cases;
}

/**
 * The p99 latency of the round, in ms, through the harness's counter columns: read before a
 * round (clears the recorded latencies, 0) and after it (p99 × requests of the round). The
 * column, Σ after − before over Σ requests, is then the rounds' p99 weighted by their requests.
 */
function p99Counter<S extends string>(ctx: RcCtx<S>, c: BenchCase<RcCtx<S>>): number {
  const pool = ctx.pools[c.subject as S];
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

/** The cache's answers so far × 100: the column is the share of a row's requests the cache answered, in %. */
function answeredCounter<S extends string>(ctx: RcCtx<S>, c: BenchCase<RcCtx<S>>): number {
  return ctx.pools[c.subject as S].answered * 100;
}

/** CPU time (µs) the case's app process has used so far (Linux /proc; a dash elsewhere). */
function appCpu<S extends string>(ctx: RcCtx<S>, c: BenchCase<RcCtx<S>>): number | undefined {
  try {
    const stat = readFileSync(`/proc/${ctx.children[c.subject as S].pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/** What a framework's response-cache scenario says; `rcScenario` adds the rest. */
export interface RcSpec<S extends string> {
  name: string;
  description: string;
  /** The scenario file (its apps run from it): `fileURLToPath(import.meta.url)`. */
  file: string;
  /** The subjects, `'no cache'` (the baseline) among them. */
  subjects: readonly S[];
  /** Checks after warming that the subject's cached routes are hits. */
  check: (subject: S, pool: Pool) => Promise<void>;
  /** The request kinds a subject has no row for. */
  skip: (op: string, subject: S) => boolean;
  targets?: Scenario<RcCtx<S>>['targets'];
  notes: string[];
}

/** A response-cache scenario: each subject's app in a child process, 50 in flight, against `no cache`. */
export function rcScenario<S extends string>(spec: RcSpec<S>): Scenario<RcCtx<S>> {
  return {
    name: spec.name,
    description: spec.description,
    baseline: 'no cache',
    concurrency: CONNECTIONS,
    setup: () => setupApps(spec.file, spec.subjects, spec.check),
    beforeCase: (ctx, c) => collectIn(ctx.children[c.subject as S]),
    teardown: teardownApps,
    cases: requestCases(spec.subjects, spec.skip),
    counters: [
      { name: 'p99 ms', read: p99Counter<S>, digits: 2 },
      { name: 'app CPU µs/request', read: appCpu<S>, digits: 0 },
      { name: 'cache answers %', read: answeredCounter<S>, digits: 0 },
    ],
    targets: spec.targets,
    notes: [
      ...spec.notes,
      `every app served each request kind for ${WARM_MS / 1000} s before the first round, and the hit routes were checked to be hits`,
      "each app collects its garbage before each case's warm-up (as the harness does in its own process): a row's garbage is not charged to the next (the miss rows' stored entries brought on major collections that the rows after them paid)",
      'p99 ms: the 99th percentile of request latency as the load generator saw it, per round, averaged over the rounds weighted by requests',
      'app CPU µs/request: CPU time of the app process per request (steadier than ops/s on a shared machine)',
      "cache answers %: the share of the row's requests the cache answered without the handler (`X-Cache: HIT`; apicache's `apicache-store` header): a hit row under 100% paid for misses too; a revalidated hit reads 0 (the handler ran, and said 304)",
    ],
  };
}
