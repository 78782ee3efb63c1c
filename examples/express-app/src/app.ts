import { type CacheManager, configFromEnv, createCacheManager } from '@larder/core';
import { CacheSessionStore, responseCache } from '@larder/express';
import express, { type Express, type Request, type Response } from 'express';
import session from 'express-session';
import { errorHandler, storeUnavailable } from './errors';
import { logFailures } from './failure-log';
import { healthz } from './health';
import { livePage } from './live-page';
import { LiveStats } from './live-stats';
import { TopologyLog } from './live-topology';
import { prometheusMetrics } from './metrics';

/** A customer record in the (pretend) database. */
export interface Customer {
  id: string;
  name: string;
  email: string;
}

/** Options for tests; the app itself is configured only by environment variables. */
export interface ExampleOptions {
  /** Latency of the pretend database lookup, in ms. @default 500 */
  lookupDelayMs?: number;
}

/** The app plus what a test or server needs to shut it down. */
export interface ExampleApp {
  app: Express;
  caches: CacheManager;
  /** Database lookups done so far (cache misses of /customers/:id). */
  lookups(): number;
  close(): Promise<void>;
}

declare module 'express-session' {
  interface SessionData {
    user?: string;
    visits?: number;
  }
}

/**
 * The classic cache-aside app. Which backend serves the cache and the sessions is chosen only by
 * environment variables (`CACHE_DRIVER`, `SESSION_DRIVER`/`SESSION_STORE`, `REDIS_URL`, ...);
 * with none set, everything lives in memory.
 */
export function createApp(env: NodeJS.ProcessEnv = process.env, options: ExampleOptions = {}): ExampleApp {
  const caches = createCacheManager(configFromEnv(env), { env });
  const cache = caches.store();
  const sessions = caches.sessionStore();
  const store = new CacheSessionStore({ cache: sessions });
  const delay = options.lookupDelayMs ?? 500;

  // The pretend database: slow on purpose.
  const db = new Map<string, Customer>([
    ['1', { id: '1', name: 'Ada Lovelace', email: 'ada@example.com' }],
    ['2', { id: '2', name: 'Grace Hopper', email: 'grace@example.com' }],
  ]);
  let lookups = 0;
  const findCustomer = async (id: string): Promise<Customer | undefined> => {
    lookups++;
    await new Promise((resolve) => setTimeout(resolve, delay));
    const found = db.get(id);
    return found ? { ...found } : undefined;
  };

  const reportCache = responseCache({ cache, ttl: '1m' });
  // Observability: the live page reads the larder.operation channel; /metrics is @larder/otel's.
  const inUse = cache.name === sessions.name ? [cache] : [cache, sessions];
  const liveStats = new LiveStats(inUse);
  const topologyLog = new TopologyLog();
  topologyLog.watchBreakers(inUse);
  const metrics = prometheusMetrics(inUse);
  const live = livePage(inUse, liveStats, topologyLog);
  const health = healthz(cache, sessions);
  // Failures on the console: store, backend, cause in words (secrets never are in larder's errors).
  const stopLogging = logFailures(inUse);

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());
  app.use(
    session({
      store,
      name: 'sid',
      secret: env.SESSION_SECRET ?? 'larder-example-secret-change-me',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { maxAge: 24 * 3_600_000, httpOnly: true, sameSite: 'lax' },
    }),
  );

  app.get('/', live.page);
  app.get('/live.json', (req, res, next) => live.json(req, res).catch(next));
  app.get('/metrics', metrics.handler);

  app.get('/customers/:id', async (req, res) => {
    const id = String(req.params.id);
    let source = 'cache';
    const customer = await cache.remember(`customer:${id}`, '10m', () => {
      source = 'db';
      return findCustomer(id);
    });
    res.set('X-Source', source);
    if (!customer) return void res.status(404).json({ error: 'not found' });
    res.json(customer);
  });

  const update = async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const body = (req.body ?? {}) as Partial<Customer>;
    const current = db.get(id) ?? { id, name: '', email: '' };
    const next: Customer = { ...current, ...pick(body), id };
    db.set(id, next);
    // Invalidate after the write: the next read loads the new record. With the cache down the
    // update still succeeds (fail open, like the reads); the cached copy may then be stale until
    // its TTL, which the response says and the console logs.
    const invalidated = await Promise.all([
      cache.delete(`customer:${id}`).then(
        () => true,
        () => false,
      ),
      reportCache.invalidate('/reports/daily').then(
        () => true,
        () => false,
      ),
    ]);
    res.set('X-Cache-Invalidated', invalidated.every(Boolean) ? 'yes' : 'no');
    res.json(next);
  };
  app.put('/customers/:id', update);
  app.post('/customers/:id', update);

  app.get('/reports/daily', reportCache, (_req, res) => {
    res.json({
      customers: db.size,
      names: [...db.values()].map((c) => c.name).sort(),
      generatedAt: new Date().toISOString(),
    });
  });

  app.post('/login', (req, res, next) => {
    const name = typeof req.body?.name === 'string' && req.body.name ? req.body.name : 'guest';
    if (!req.session) return storeUnavailable(res);
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = name;
      req.session.visits = 0;
      // Save before answering: a lost session write must be an error, not a silent logout.
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.json({ user: name })));
    });
  });

  app.get('/me', (req, res, next) => {
    if (!req.session) return storeUnavailable(res);
    if (!req.session.user) return void res.status(401).json({ error: 'not logged in' });
    req.session.visits = (req.session.visits ?? 0) + 1;
    req.session.save((err) => (err ? next(err) : res.json({ user: req.session.user, visits: req.session.visits })));
  });

  app.post('/logout', (req, res, next) => {
    if (!req.session) return void res.json({ ok: true });
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
  });

  app.get('/healthz', (req, res, next) => health(req, res).catch(next));

  app.use(errorHandler);

  return {
    app,
    caches,
    lookups: () => lookups,
    close: async () => {
      stopLogging();
      liveStats.close();
      topologyLog.close();
      await metrics.close();
      store.close();
      await caches.close();
    },
  };
}

function pick(body: Partial<Customer>): Partial<Customer> {
  const out: Partial<Customer> = {};
  if (typeof body.name === 'string') out.name = body.name;
  if (typeof body.email === 'string') out.email = body.email;
  return out;
}
