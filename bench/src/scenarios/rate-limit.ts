/**
 * Rate limits on Redis: decisions/s of larder's limiter against rate-limit-redis (the
 * express-rate-limit store) and rate-limiter-flexible's RateLimiterRedis, on one redis-server,
 * at 1 and 64 in flight; then the same through express-rate-limit's middleware. Every subject
 * runs a fixed window over 10,000 keys with a limit no key reaches (every decision admits).
 */
import { Cache } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { ExpressRateLimitStore, rateLimit as larderMiddleware } from '@larder/express';
import { createRedisStore } from '@larder/redis';
import expressRateLimit from 'express-rate-limit';
import { Redis } from 'ioredis';
import { RedisStore as RateLimitRedis } from 'rate-limit-redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { BenchCase, Scenario } from '../harness';
import { redisCommandsColumn, redisCpuColumn } from '../redis-counters';
import { type KeySet, WRITE_KEY_SETS } from '../workload';

const KEYS = 10_000;
const LIMIT = 1_000_000_000;
const WINDOW_MS = 60_000;
const key = (i: number) => `ip:${i % KEYS}`;

type Decide = (key: string) => Promise<unknown>;
type Middleware = (req: unknown, res: unknown, next: (err?: unknown) => void) => unknown;

interface Ctx {
  server: RedisServer;
  stats: Redis;
  decide: Record<string, Decide>;
  middleware: Record<string, Middleware>;
  /** Server round trips per decision by subject, counted with MONITOR (commands scripts run left out). */
  roundTrips: Record<string, number>;
  closers: (() => Promise<unknown>)[];
}

const FIXED = 'larder (fixed)';
const setOp = (concurrency: number, set: KeySet) => `decision ×${concurrency} · ${set.label}`;
/** The subjects of the key-set rows: larder's fixed window and the two peers. */
const PEERS = [FIXED, 'rate-limit-redis', 'rate-limiter-flexible'];
/** Printed under the table; setup adds the round trips it counted. */
const NOTES = [
  `The "decision ×N · <key set>" rows run larder's fixed window and the two peers on four more key sets: ${WRITE_KEY_SETS.map((set) => set.label).join(', ')} (a fixed random order each, the same for every subject).`,
  "Middleware rows: express-rate-limit 8 with each store (rate-limit-redis: its own store), and larder's own rateLimit middleware, on a stub request and response (no HTTP).",
  'Redis commands/op counts what the server ran, the commands inside a script included (INFO stats).',
  'rate-limit-redis 6.0.1, rate-limiter-flexible 11.4.0, express-rate-limit 8.7, ioredis 6.0.0, redis-server 7.0.',
];
const SUBJECTS = [FIXED, 'larder (sliding)', 'larder (token bucket)', 'rate-limit-redis', 'rate-limiter-flexible'];
/**
 * Floor rows, to see where a decision's cost is: larder's Redis driver without the limiter; the
 * same over a client the app made (the driver adopts it as is, without its command deadlines);
 * and the least any one-script decision costs on ioredis.
 */
const DRIVER_FLOOR = 'floor: larder driver only (store.rateLimit, fixed)';
const ADOPTED_FLOOR = 'floor: larder driver over an adopted client (no command deadlines)';
const CLIENT_FLOOR = 'floor: ioredis EVALSHA of an INCR script';
const FLOORS = [DRIVER_FLOOR, ADOPTED_FLOOR, CLIENT_FLOOR];
const INCR_SCRIPT = "return redis.call('INCR', KEYS[1])";
/**
 * Under callgrind (bench/src/case-cpu.ts) node runs tens of times slower: larder's deadlines
 * are raised to a minute there (store and cache alike, so the path measured is the same — no
 * facade timer), or the warm-up's first decisions time out.
 */
const TIMEOUT_MS = process.env.LARDER_CALLGRIND ? 60_000 : 2000;

async function setup(): Promise<Ctx> {
  const server = await startRedis();
  const closers: (() => Promise<unknown>)[] = [];
  const cache = new Cache({
    store: createRedisStore({ url: server.url, commandTimeoutMs: TIMEOUT_MS }),
    prefix: 'larder:',
    timeout: TIMEOUT_MS,
  });
  closers.push(() => cache.close());
  const limiter = (algorithm: 'fixed' | 'sliding' | 'token-bucket') =>
    cache.rateLimiter({ limit: LIMIT, window: WINDOW_MS, algorithm });
  const fixed = limiter('fixed');
  const sliding = limiter('sliding');
  const bucket = limiter('token-bucket');
  // The peers on their own ioredis client each (larder's store has its own).
  const rlrClient = new Redis(server.url);
  const rlfClient = new Redis(server.url);
  const stats = new Redis(server.url);
  closers.push(
    () => rlrClient.quit(),
    () => rlfClient.quit(),
    () => stats.quit(),
  );
  const rlr = () => {
    const store = new RateLimitRedis({
      sendCommand: (command: string, ...args: string[]) => rlrClient.call(command, ...args) as never,
      prefix: 'rlr:',
    });
    store.init({ windowMs: WINDOW_MS } as never);
    return store;
  };
  const rlrStore = rlr();
  const rlf = new RateLimiterRedis({
    storeClient: rlfClient,
    points: LIMIT,
    duration: WINDOW_MS / 1000,
    keyPrefix: 'rlf',
  });
  const store = await cache.getStore();
  const request = { op: 'hit', algorithm: 'fixed', limit: LIMIT, windowMs: WINDOW_MS, cost: 1 } as const;
  const floorClient = new Redis(server.url);
  const adoptedClient = new Redis(server.url);
  const adopted = createRedisStore({ client: adoptedClient, commandTimeoutMs: TIMEOUT_MS });
  closers.push(
    () => adopted.close(),
    () => adoptedClient.quit(),
    () => floorClient.quit(),
  );
  const incrSha = (await floorClient.script('LOAD', INCR_SCRIPT)) as string;
  const decide: Record<string, Decide> = {
    [DRIVER_FLOOR]: (k) => store.rateLimit!(`larder:__larder:rate:${k}`, request),
    [ADOPTED_FLOOR]: (k) => adopted.rateLimit!(`adopted:${k}`, request),
    [CLIENT_FLOOR]: (k) => floorClient.evalsha(incrSha, 1, `floor:${k}`),
    [FIXED]: (k) => fixed.hit(k),
    'larder (sliding)': (k) => sliding.hit(k),
    'larder (token bucket)': (k) => bucket.hit(k),
    'rate-limit-redis': (k) => rlrStore.increment(k),
    'rate-limiter-flexible': (k) => rlf.consume(k),
  };
  // express-rate-limit 8 with each store, and larder's own middleware; the key is set on the request.
  const erlOptions = {
    windowMs: WINDOW_MS,
    limit: LIMIT,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req: { rlKey: string }) => req.rlKey,
    validate: false,
  } as const;
  const middleware: Record<string, Middleware> = {
    'express-rate-limit + larder store': expressRateLimit({
      ...erlOptions,
      store: new ExpressRateLimitStore({
        limiter: cache.rateLimiter({ limit: LIMIT, window: WINDOW_MS, name: 'erl' }),
      }),
    } as never) as unknown as Middleware,
    'rate-limit-redis': expressRateLimit({ ...erlOptions, store: rlr() } as never) as unknown as Middleware,
    'larder rateLimit middleware': larderMiddleware({
      limiter: fixed,
      key: (req) => (req as unknown as { rlKey: string }).rlKey,
    }) as unknown as Middleware,
  };
  const ctx: Ctx = { server, stats, decide, middleware, roundTrips: {}, closers };
  for (const subject of SUBJECTS) ctx.roundTrips[subject] = await countRoundTrips(ctx, ctx.decide[subject]!);
  NOTES.push(
    `Server round trips per decision (MONITOR over 200 decisions, the commands scripts run left out): ${SUBJECTS.map((s) => `${s} ${ctx.roundTrips[s]!.toFixed(2)}`).join(', ')}.`,
  );
  return ctx;
}

/** Sends 200 decisions one at a time with MONITOR on; returns the client commands per decision. */
async function countRoundTrips(ctx: Ctx, decide: Decide): Promise<number> {
  await decide('warm-up');
  // monitor() opens its own connection (a duplicate of `stats`): a `duplicate()` before it was a
  // client never closed, which kept reconnecting once the scenario's server had stopped.
  const monitor = await ctx.stats.monitor();
  let commands = 0;
  // Commands a script runs show with source 'lua': they are not round trips.
  monitor.on('monitor', (_time: string, _args: string[], source: string) => {
    if (source !== 'lua') commands++;
  });
  await ctx.stats.ping();
  const before = commands;
  for (let i = 0; i < 200; i++) await decide(`count:${i}`);
  await ctx.stats.ping();
  const counted = commands - before - 1;
  monitor.disconnect();
  return counted / 200;
}

/** A request and response as express-rate-limit and larder's middleware read and write them. */
function fakeExchange(rlKey: string) {
  const headers = new Map<string, string>();
  const req = { rlKey, ip: '10.0.0.1', headers: {}, app: { get: () => false }, originalUrl: '/', socket: {} };
  const res = {
    headersSent: false,
    statusCode: 200,
    writableEnded: false,
    setHeader: (name: string, value: string) => headers.set(name, value),
    append: (name: string, value: string) => headers.set(name, value),
    once: () => res,
    status: () => res,
    send: () => res,
    end: () => res,
  };
  return { req, res };
}

function decisionCases(concurrency: number): BenchCase<Ctx>[] {
  return [...SUBJECTS, ...FLOORS].map((subject) => ({
    op: `decision ×${concurrency}`,
    subject,
    concurrency,
    run: (c: Ctx, i: number) => c.decide[subject]!(key(i)),
  }));
}

function keySetCases(concurrency: number, set: KeySet): BenchCase<Ctx>[] {
  return PEERS.map((subject) => ({
    op: setOp(concurrency, set),
    subject,
    concurrency,
    run: (c: Ctx, i: number) => c.decide[subject]!(`ip:${set.index(i)}`),
  }));
}

function middlewareCases(concurrency: number): BenchCase<Ctx>[] {
  return ['larder rateLimit middleware', 'express-rate-limit + larder store', 'rate-limit-redis'].map((subject) => ({
    op: `middleware ×${concurrency}`,
    subject,
    concurrency,
    run: (c: Ctx, i: number) =>
      new Promise<void>((resolve, reject) => {
        const { req, res } = fakeExchange(key(i));
        c.middleware[subject]!(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
      }),
  }));
}

/** The rate-limit scenario. */
export const scenario: Scenario<Ctx> = {
  name: 'rate-limit',
  description:
    'Rate-limit decisions on one redis-server (fixed window, 10,000 keys, every decision admits) at 1 and 64 in flight: larder against rate-limit-redis and rate-limiter-flexible, then through express-rate-limit 8.',
  baseline: 'rate-limit-redis',
  setup,
  cases: [
    ...decisionCases(1),
    ...decisionCases(64),
    ...WRITE_KEY_SETS.flatMap((set) => [...keySetCases(1, set), ...keySetCases(64, set)]),
    ...middlewareCases(1),
    ...middlewareCases(64),
  ],
  counters: [
    redisCommandsColumn(),
    redisCpuColumn(),
    {
      // This process's CPU (the subjects' client side): steadier than ops/s on a shared machine.
      name: 'client CPU µs/op',
      read: () => {
        const { user, system } = process.cpuUsage();
        return user + system;
      },
      digits: 1,
    },
  ],
  targets: [
    { op: 'decision ×1', subject: FIXED, over: 'rate-limit-redis', atLeast: 1 },
    { op: 'decision ×1', subject: FIXED, over: 'rate-limiter-flexible', atLeast: 1 },
    { op: 'decision ×64', subject: FIXED, over: 'rate-limit-redis', atLeast: 1 },
    { op: 'decision ×64', subject: FIXED, over: 'rate-limiter-flexible', atLeast: 1 },
    ...WRITE_KEY_SETS.flatMap((set) =>
      [1, 64].map((n) => ({ op: setOp(n, set), subject: FIXED, over: 'rate-limit-redis', atLeast: 1 })),
    ),
  ],
  notes: NOTES,
  async teardown(ctx) {
    for (const close of ctx.closers) await close().catch(() => {});
    await ctx.server.stop();
  },
};
