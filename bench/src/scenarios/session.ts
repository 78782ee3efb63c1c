/**
 * Sessions: an Express 5 app with express-session, its store being larder's `CacheSessionStore`
 * on Redis, connect-redis 9 (node-redis 5) on the same Redis, or express-session's MemoryStore.
 * Each app runs in a child process of its own (this file, started with LARDER_BENCH_SESSION_SERVER=1
 * and the subject in LARDER_BENCH_SESSION_SUBJECT), so no store shares a heap or an event loop with
 * another or with the load generator; the load generator keeps 50 keep-alive
 * connections, each with its own session cookie, like autocannon with per-connection cookies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { childPort } from '../child-port';
import type { BenchCase, Scenario } from '../harness';

const CONNECTIONS = 50;
/**
 * Each app serves this long of each route before any case is measured: a server that has run for
 * a while has its hot code optimized. Without it the first rounds mostly measure V8 compiling
 * (on background threads, counted in the app's CPU), which charges the subject with the most
 * JavaScript per request (larder: 407 µs vs 237 at 12:58; ~200 vs ~190 once warm).
 */
const WARM_MS = 3_000;
// biome-ignore lint/suspicious/noExplicitAny: express and express-session are loaded untyped
type Loose = any;
const SUBJECTS = ['larder', 'larder (autoPipelining)', 'connect-redis', 'raw ioredis store', 'MemoryStore'] as const;
type Subject = (typeof SUBJECTS)[number];

// ---------------------------------------------------------------------------------------------
// Server side (child process).

async function serve(): Promise<void> {
  // The bench package has no @types/express: load them untyped.
  const express = (await import('express' as string)).default as Loose;
  const session = (await import('express-session' as string)).default as Loose;
  const { Cache } = await import('@larder/core');
  const { createRedisStore } = await import('@larder/redis');
  const { CacheSessionStore } = await import('@larder/express');
  const { RedisStore } = await import('connect-redis');
  const { createClient } = await import('redis');
  const url = process.env.REDIS_URL as string;

  // Each app runs in a process of its own (LARDER_BENCH_SESSION_SUBJECT): one store's heap and
  // clients never add to another's GC or event loop. Only the subject's store is built.
  const makeStore: Record<Subject, () => Promise<unknown>> = {
    larder: async () =>
      new CacheSessionStore({ cache: new Cache({ store: createRedisStore({ url }), prefix: 'bench-larder:' }) }),
    // ioredis writes each command with its own socket write unless auto-pipelining batches a tick's commands.
    'larder (autoPipelining)': async () =>
      new CacheSessionStore({
        cache: new Cache({ store: createRedisStore({ url, autoPipelining: true }), prefix: 'bench-larder2:' }),
      }),
    'connect-redis': async () => {
      const nodeRedis = createClient({ url });
      await nodeRedis.connect();
      return new RedisStore({ client: nodeRedis, prefix: 'bench-cr:' });
    },
    'raw ioredis store': async () => rawIoredisStore(session.Store, url),
    MemoryStore: async () => new session.MemoryStore(),
  };
  const subject = process.env.LARDER_BENCH_SESSION_SUBJECT as Subject;
  const store = await makeStore[subject]();

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(
    session({
      store,
      secret: 'bench-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  );
  app.post('/login', (req: Loose, res: Loose) => {
    const s = req.session as unknown as Record<string, unknown>;
    s.user = 'ann';
    s.visits = 0;
    res.json({ ok: true });
  });
  // Modifies the session: express-session calls store.set.
  app.get('/modify', (req: Loose, res: Loose) => {
    const s = req.session as unknown as Record<string, number>;
    s.visits = (s.visits ?? 0) + 1;
    res.json({ visits: s.visits });
  });
  // Only reads it: express-session calls store.touch.
  app.get('/read', (req: Loose, res: Loose) => {
    res.json({ user: (req.session as unknown as Record<string, unknown>).user ?? null });
  });
  const server = app.listen(0, '127.0.0.1');
  // The load generator's connections sit idle while other apps warm up or are measured: Node's
  // default 5 s keep-alive timeout would close them under it.
  server.keepAliveTimeout = 0;
  await new Promise((resolve) => server.once('listening', resolve));
  // One line on stdout tells the bench process where the app listens (no IPC channel needed).
  process.stdout.write(`PORT ${(server.address() as net.AddressInfo).port}\n`);
  // Exit cleanly on SIGTERM (so --cpu-prof can write its profile when profiling the app).
  process.once('SIGTERM', () => process.exit(0));
}

/**
 * The floor of any store on ioredis: GET on read, SET PX on write, touch skipped (so a read-only
 * request is one GET, as larder's lazy touch makes it), no checks, no merge. ioredis writes each
 * command with a socket write of its own (node-redis joins a loop turn's commands into one).
 */
async function rawIoredisStore(Store: new () => object, url: string): Promise<object> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  type Done = (err?: unknown, value?: unknown) => void;
  const key = (sid: string) => `bench-raw:${sid}`;
  class RawIoredisStore extends Store {
    get(sid: string, done: Done): void {
      redis.get(key(sid)).then((text) => done(null, text === null ? null : JSON.parse(text)), done);
    }
    set(sid: string, sess: { cookie?: { maxAge?: number | null } }, done: Done): void {
      const ttl = Math.max(1, Math.round(sess.cookie?.maxAge ?? 86_400_000));
      redis.set(key(sid), JSON.stringify(sess), 'PX', ttl).then(() => done(), done);
    }
    touch(_sid: string, _sess: unknown, done: Done): void {
      done();
    }
    destroy(sid: string, done: Done): void {
      redis.del(key(sid)).then(() => done(), done);
    }
  }
  return new RawIoredisStore();
}

if (process.env.LARDER_BENCH_SESSION_SERVER === '1') {
  serve().catch((error: unknown) => {
    process.stderr.write(`session bench server failed: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------------------------
// Load side (the bench process).

/** One keep-alive HTTP/1.1 connection with its own session cookie; one request at a time. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((error?: Error) => void) | undefined;

  private constructor(
    private readonly socket: net.Socket,
    readonly cookie: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.check();
    });
    socket.on('error', (error) => this.waiting?.(error));
    socket.on('close', () => this.waiting?.(new Error('the app closed the connection')));
  }

  static async open(port: number, cookie = ''): Promise<Connection> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Connection(socket, cookie);
  }

  /** Sends one request and resolves with the response head once the whole response arrived. */
  request(method: string, path: string): Promise<string> {
    const head = `${method} ${path} HTTP/1.1\r\nHost: bench\r\n${this.cookie ? `Cookie: ${this.cookie}\r\n` : ''}Content-Length: 0\r\n\r\n`;
    return new Promise<string>((resolve, reject) => {
      this.waiting = (error) => {
        this.waiting = undefined;
        if (error) return reject(error);
        resolve(this.lastHead);
      };
      this.socket.write(head);
    });
  }

  private lastHead = '';

  private check(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    this.buffer = this.buffer.subarray(end + 4 + length);
    this.lastHead = head;
    if (!head.startsWith('HTTP/1.1 200')) {
      this.waiting?.(new Error(`unexpected response: ${head.split('\r\n')[0]}`));
      return;
    }
    this.waiting?.();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Connections handed to in-flight requests, one per worker. */
class Pool {
  constructor(private readonly free: Connection[]) {}
  async run(method: string, path: string): Promise<void> {
    const connection = this.free.pop();
    if (!connection) throw new Error('more requests in flight than connections');
    try {
      await connection.request(method, path);
    } finally {
      this.free.push(connection);
    }
  }
  close(): void {
    for (const c of this.free) c.close();
  }
}

/** Runs `path` on every connection of `pool` for `ms` (the app's warm-up; see WARM_MS). */
async function warm(pool: Pool, path: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  const worker = async () => {
    while (Date.now() < until) await pool.run('GET', path);
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
}

interface Ctx {
  redis: RedisServer;
  children: Record<Subject, ChildProcess>;
  pools: Record<Subject, Pool>;
}

/** Logs in once per connection and keeps the session cookie on that connection. */
async function sessionPool(port: number): Promise<Pool> {
  const connections: Connection[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const login = await Connection.open(port);
    const head = await login.request('POST', '/login');
    login.close();
    const cookie = /set-cookie: *([^;\r\n]+)/i.exec(head)?.[1];
    if (!cookie) throw new Error('login set no cookie');
    connections.push(await Connection.open(port, cookie));
  }
  return new Pool(connections);
}

/** Starts the app of one subject in a child process; resolves with the process and its port. */
async function startApp(subject: Subject, redisUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: {
      ...process.env,
      LARDER_BENCH_SESSION_SERVER: '1',
      LARDER_BENCH_SESSION_SUBJECT: subject,
      REDIS_URL: redisUrl,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await childPort(child, `session bench server (${subject})`);
  return { child, port };
}

async function setup(): Promise<Ctx> {
  const redis = await startRedis();
  const children = {} as Record<Subject, ChildProcess>;
  const pools = {} as Record<Subject, Pool>;
  try {
    for (const subject of SUBJECTS) {
      const { child, port } = await startApp(subject, redis.url);
      children[subject] = child;
      // Never hang the whole bench on a store that does not answer: name it instead.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${subject}: 50 logins did not finish within 60 s`)), 60_000);
      });
      try {
        pools[subject] = await Promise.race([sessionPool(port), timeout]);
      } finally {
        clearTimeout(timer);
      }
      for (const path of ['/modify', '/read']) await warm(pools[subject], path, WARM_MS);
    }
  } catch (error) {
    for (const child of Object.values(children)) child.kill('SIGTERM');
    await redis.stop();
    throw error;
  }
  return { redis, children, pools };
}

async function teardown(ctx: Ctx): Promise<void> {
  for (const pool of Object.values(ctx.pools)) pool.close();
  for (const child of Object.values(ctx.children)) child.kill('SIGTERM');
  await ctx.redis.stop();
}

/** CPU time (µs) the case's app process has used so far (Linux /proc; a dash elsewhere). */
function serverCpu(ctx: Ctx, c: BenchCase<Ctx>): number | undefined {
  try {
    const stat = readFileSync(`/proc/${ctx.children[c.subject as Subject].pid}/stat`, 'utf8');
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/**
 * Commands the clients sent: the server's command count minus the INFO calls made to read it and
 * minus the GET and SET that larder's compare-and-set script runs inside each EVALSHA (commandstats
 * counts commands run by scripts too; every session here has one writer, so each script runs both).
 */
async function redisCommands(ctx: Ctx, c: BenchCase<Ctx>): Promise<number | undefined> {
  if (c.subject === 'MemoryStore') return undefined;
  const text = String(await ctx.redis.command('INFO', 'commandstats'));
  let total = 0;
  for (const line of text.split(/\r?\n/)) {
    const match = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line);
    if (!match || match[1] === 'info') continue;
    total += Number(match[2]);
    if (match[1] === 'evalsha') total -= 2 * Number(match[2]);
  }
  return total;
}

const cases: BenchCase<Ctx>[] = [];
for (const [op, path] of [
  ['modifying request', '/modify'],
  ['read-only request', '/read'],
] as const) {
  for (const subject of SUBJECTS) {
    cases.push({ op, subject, run: (ctx) => ctx.pools[subject].run('GET', path) });
  }
}

export const scenario: Scenario<Ctx> = {
  name: 'session',
  description:
    'Express 5 + express-session, 50 keep-alive connections each with its own session cookie: larder CacheSessionStore ' +
    '(Redis, ioredis) vs connect-redis 9 (node-redis 5) vs express-session MemoryStore. Each app in a child process of its own.',
  baseline: 'connect-redis',
  concurrency: CONNECTIONS,
  setup,
  teardown,
  cases,
  counters: [
    { name: 'Redis commands sent/request', read: redisCommands },
    { name: 'app CPU µs/request', read: serverCpu, digits: 0 },
  ],
  targets: [
    { op: 'modifying request', subject: 'larder', over: 'MemoryStore', atLeast: 0.95 },
    { op: 'modifying request', subject: 'larder', over: 'connect-redis', atLeast: 1 },
  ],
  notes: [
    'app CPU µs/request = CPU time of the app process per request (independent of other load on the machine)',
    `every app served each route for ${WARM_MS / 1000} s before the first round (a warm server: V8 has optimized its hot code)`,
    "raw ioredis store = the floor of any store on ioredis: GET, SET PX, touch skipped, nothing else. larder minus that row is larder's own cost (envelope, merge by compare-and-set, lazy touch, the Cache facade); that row minus connect-redis is the client's (ioredis makes one socket write per command, node-redis 5 one per loop turn)",
    'wall ops/s moves by ±10-30% between identical runs on this 2-core machine shared with other jobs (the load generator, redis-server and the app share the cores); app CPU µs/request by about ±10%: read the targets with that in mind',
    'MemoryStore keeps sessions in the app process (no I/O at all): its row is the ceiling of what any store can reach here, since express + express-session + the load generator use most of the 2 cores',
    'read-only target: larder ≤ 1 Redis command per request (connect-redis: GET + EXPIRE = 2); see the column',
    'modifying request: express-session calls store.set (larder: GET + one EVALSHA, the merge by compare-and-set; connect-redis: GET + SET)',
    "larder's reads of one tick are coalesced into one MGET by the Redis driver (batchGets), so commands/request can be < 1",
  ],
};
